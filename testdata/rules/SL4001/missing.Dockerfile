# The final stage never sets USER: the base image's user (root) runs it.
# expect: SL4001
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
CMD ["python3", "/opt/runner/entrypoint.py"]
