# Only a removal after the last update cleans the lists.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4011
RUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y --no-install-recommends curl
# expect: SL4011
RUN apt-get update && rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y --no-install-recommends git
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
