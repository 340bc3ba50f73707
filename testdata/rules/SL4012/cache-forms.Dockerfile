FROM alpine:3.20@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4012
RUN rm -rf /var/cache/apk/* && apk add curl
# expect: SL4012
RUN --mount=type=cache,target=/var/cache/apk/x86_64 apk add git
# expect: SL4012
RUN apk -X https://dl-cdn.alpinelinux.org/alpine/edge/testing add jq
# expect: SL4012
RUN apk upgrade
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
