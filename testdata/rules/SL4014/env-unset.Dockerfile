FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
ENV PIP_NO_CACHE_DIR=1
# expect: SL4014
RUN unset PIP_NO_CACHE_DIR && pip install requests
ENV PIP_NO_CACHE_DIR=""
# expect: SL4014
RUN pip install httpx
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
