FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f AS build
# expect: SL4008
ARG NPM_TOKEN
RUN echo building

FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4008
ENV PYTHONUNBUFFERED=1 ANTHROPIC_API_KEY=sk-ant-example
# expect: SL4008
ENV DB_PASSWORD changeme
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
