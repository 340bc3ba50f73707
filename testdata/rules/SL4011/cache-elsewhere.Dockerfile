# Mounts that do not cover /var/lib/apt/lists: the lists stay in the layer.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4011
RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl
# expect: SL4011
RUN --mount=type=cache,target=/var/lib/apt/lists/partial apt-get update && apt-get install -y --no-install-recommends git
# A bind mount is not scratch space.
# expect: SL4011
RUN --mount=type=bind,target=/var/lib/apt/lists,rw apt-get update
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
