FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4014
RUN pip3 install requests
# expect: SL4014
RUN pip3.12 install httpx
# expect: SL4014
RUN python -u -m pip install pydantic
# expect: SL4014
RUN /usr/local/bin/python3.12 -m pip download -d /wheels attrs
# expect: SL4014
RUN pip --timeout 60 install rich
# expect: SL4014
RUN pip wheel -w /wheels numpy
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
