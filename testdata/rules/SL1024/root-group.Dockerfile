# A runner image whose USER names the root group (the pod fixture
# fail-image-root-group.yaml runs it without a runAsGroup).
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001:0
