# A runner image whose USER names the root group (the pod fixture
# fail-image-root-group.yaml runs it without a runAsGroup). The image
# rule SL4001 reports the same USER in the Dockerfile itself.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
# expect: SL4001
USER 10001:0
