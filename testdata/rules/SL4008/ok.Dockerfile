FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ENV PYTHONUNBUFFERED=1 RUNNER_HOME=/opt/runner
RUN --mount=type=secret,id=npm_token echo uses a secret mount
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
