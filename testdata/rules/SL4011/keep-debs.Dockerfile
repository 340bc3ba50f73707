# The BuildKit cache recipe turns off the image's docker-clean hook; without the
# cache mount on /var/cache/apt the downloaded packages then stay in the layer.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
# expect: SL4011
RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y --no-install-recommends curl
# expect: SL4011
RUN --mount=type=cache,target=/var/lib/apt apt-get clean && apt-get upgrade -y
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
