# Options with values before the subcommand do not hide it.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4011
RUN apt-get -o Acquire::Retries=3 update
# expect: SL4011
RUN apt-get -q -o Dpkg::Options::=--force-confold install -y curl
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
