FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN mkdir -p /scratch && chmod 1777 /scratch && chmod 755 /opt && chmod u+w,go-w /opt
RUN mkdir -m 750 /data
COPY --chmod=644 config.json /etc/runner/config.json
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
