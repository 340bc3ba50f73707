# BuildKit cache and tmpfs mounts on the lists (or a directory above them), and
# apt-get distclean, keep the package lists out of the layer.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends curl
RUN --mount=type=tmpfs,target=/var/lib/apt/lists/ apt-get -o Acquire::Retries=3 update && apt-get install -y --no-install-recommends git
RUN apt-get update && apt-get install -y --no-install-recommends make && apt-get distclean
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
