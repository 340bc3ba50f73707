FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN pip install --no-cache-dir requests
RUN --mount=type=cache,target=/root/.cache/pip pip install httpx
ENV PIP_NO_CACHE_DIR=1
RUN python3 -m pip install pydantic
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
