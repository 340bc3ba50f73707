# pipx, pipenv and uv are not pip; every way of turning pip's cache off or
# keeping it out of the layer.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN pipx install black
RUN pipenv install
RUN python3 -m pipx install ruff
RUN uv pip install --system requests
RUN PIP_NO_CACHE_DIR=1 pip install httpx
RUN export PIP_NO_CACHE_DIR=1 && pip install pydantic
RUN PIP_NO_CACHE_DIR=1 && export PIP_NO_CACHE_DIR && pip install rich
RUN env PIP_NO_CACHE_DIR=off pip3 install attrs
RUN --mount=type=cache,target=/root/.cache pip install numpy
RUN --mount=type=tmpfs,target=/home/runner/.cache/pip pip install scipy
RUN pip install pandas && pip cache purge
RUN pip install polars && rm -rf ~/.cache/pip
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
