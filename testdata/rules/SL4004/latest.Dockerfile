# expect: SL4004 SL4005
FROM python:latest
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
