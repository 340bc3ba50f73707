FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
USER 10001
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["test", "-f", "/opt/runner/entrypoint.py"]
