FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN useradd --create-home -u 10001 runner
COPY entrypoint.py /opt/runner/
RUN chown -R runner:runner /home/runner
COPY --chown=10001:10001 settings.toml /home/runner/.config/settings.toml
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001:10001
