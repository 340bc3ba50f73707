FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4006
ADD --unpack=maybe runner.tar.gz /opt/
# expect: SL4006
ADD --unpack=true https://example.com/runner.tar.gz /opt/
# expect: SL4006
ADD --checksum= https://example.com/tool /usr/local/bin/tool
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
