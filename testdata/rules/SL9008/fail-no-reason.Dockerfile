FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
HEALTHCHECK CMD ["true"]
# A suppression in a Dockerfile needs a reason, as in a manifest; without one
# it suppresses nothing.
# expect: SL9008
# sandbox-lint: ignore[image-non-root-user]
# expect: SL4001
USER root
