# The seed's runner image as described: non-root `runner` user, a HEALTHCHECK,
# /opt/runner chowned to the runner.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN useradd --create-home -u 10001 runner
# expect: SL4015
COPY --chown=runner:runner entrypoint.py /opt/runner/entrypoint.py
HEALTHCHECK CMD ["test", "-f", "/opt/runner/entrypoint.py"]
# expect: SL4002
USER runner
