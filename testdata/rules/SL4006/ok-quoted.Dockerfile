# Verified remote sources in every spelling, and archives whose unpacking is explicit.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ARG TOOL_URL=https://example.com/tool
ADD --checksum=sha256:abababababababababababababababababababababababababababababababab "https://example.com/tool" /usr/local/bin/tool
ADD --checksum=sha256:abababababababababababababababababababababababababababababababab ["https://example.com/tool", "/usr/local/bin/tool2"]
ADD --checksum=sha256:abababababababababababababababababababababababababababababababab ${TOOL_URL} /usr/local/bin/tool3
ADD --unpack=true runner.tar.gz /opt/
ADD --unpack --checksum=sha256:abababababababababababababababababababababababababababababababab https://example.com/runner.tar.gz /opt/
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
