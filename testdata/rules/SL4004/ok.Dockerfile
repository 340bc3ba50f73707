ARG PY_VERSION=3.12-slim
FROM python:${PY_VERSION}@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f AS build
RUN python3 -m compileall /opt

FROM scratch AS empty

FROM build
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
