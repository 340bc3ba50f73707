FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ARG RUNNER_UID=10001
ENV RUNNER_GID=0
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
# expect: SL4001
USER ${RUNNER_UID}:${RUNNER_GID}
