FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ADD --checksum=sha256:abababababababababababababababababababababababababababababababab https://example.com/tool /usr/local/bin/tool
COPY runner.tar.gz /tmp/
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
