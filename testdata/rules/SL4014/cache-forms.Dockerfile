FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# A purge before the install purges nothing.
# expect: SL4014
RUN pip cache purge && pip install requests
# A mount below the cache does not keep it out.
# expect: SL4014
RUN --mount=type=cache,target=/root/.cache/pip/http pip install httpx
# An empty value is ignored by pip.
# expect: SL4014
RUN PIP_NO_CACHE_DIR= pip install pydantic
# A shell variable that is not exported does not reach pip.
# expect: SL4014
RUN PIP_NO_CACHE_DIR=1; pip install attrs
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
