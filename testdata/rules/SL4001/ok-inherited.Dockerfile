# The final stage builds on a stage that set USER and HEALTHCHECK: it inherits both.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f AS base
USER 10001:10001
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]

FROM base AS final
COPY app.py /opt/runner/app.py
