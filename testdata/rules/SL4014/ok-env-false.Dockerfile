# pip turns its cache off for every boolean value of PIP_NO_CACHE_DIR, false
# ones included (a backward-compatibility quirk pip documents in its option code).
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ENV PIP_NO_CACHE_DIR=false
RUN pip install requests
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
