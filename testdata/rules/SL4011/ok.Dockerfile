# apt in a build stage does not reach the final image.
FROM debian:bookworm@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f AS build
RUN apt-get update && apt-get install -y build-essential

FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN --mount=type=cache,target=/var/lib/apt/lists \
    apt-get update && apt-get -o APT::Install-Recommends=false install -y curl
RUN <<EOT
apt-get update
apt-get install -y --no-install-recommends git
rm -rf /var/lib/apt/lists/*
EOT
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
