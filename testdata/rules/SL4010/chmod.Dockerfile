FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN mkdir -p /data \
# expect: SL4010
    && chmod 777 /data
# expect: SL4010
RUN chmod -R o+w /srv
# expect: SL4010
COPY --chmod=666 config.json /etc/runner/config.json
# expect: SL4010
RUN mkdir -m 0777 /scratch
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
