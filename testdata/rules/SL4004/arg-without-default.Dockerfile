ARG PY_VERSION
# expect: SL4004
FROM python:${PY_VERSION}
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
