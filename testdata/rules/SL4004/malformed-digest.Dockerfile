# A digest pins the base only when it is well formed: a shortened digest, an
# uppercase one, an unknown algorithm and a bare @ pin nothing (and are not
# reported again by SL4005).
# expect: SL4004
FROM golang:1.22@sha256:4f53 AS build
# expect: SL4004
FROM node:20@sha256:3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F3F AS assets
# expect: SL4004
FROM rust:1.80@md5:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f AS tools
# expect: SL4004
FROM python:3.12-slim@
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
