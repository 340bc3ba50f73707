FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
HEALTHCHECK CMD ["true"]
# expect: SL9009
# sandbox-lint: ignore[SL4003] there is a healthcheck now
USER 10001
