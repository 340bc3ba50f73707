FROM alpine:3.20@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN --mount=type=cache,target=/var/cache/apk apk add curl
RUN --mount=type=cache,target=/etc/apk/cache apk update && apk add git
RUN --mount=type=tmpfs,target=/var/cache apk upgrade
RUN apk -X https://dl-cdn.alpinelinux.org/alpine/edge/testing --no-cache add jq
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
