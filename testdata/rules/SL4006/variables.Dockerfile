FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ARG TOOL_URL=https://example.com/tool
ENV BUNDLE=runner.tgz
ARG UNKNOWN
# expect: SL4006
ADD ${TOOL_URL} /usr/local/bin/tool
# expect: SL4006
ADD $BUNDLE /opt/
# expect: SL4006
ADD $UNKNOWN /opt/
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
