FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4006
ADD git@github.com:acme/tool.git /src/a
# expect: SL4006
ADD git://example.com/acme/tool /src/b
# expect: SL4006
ADD --checksum=sha256:abababababababababababababababababababababababababababababababab ssh://git@example.com/acme/tool /src/c
# expect: SL4006
ADD "https://github.com/acme/tool.git" /src/d
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
