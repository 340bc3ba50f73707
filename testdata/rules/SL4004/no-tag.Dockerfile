# expect: SL4004 SL4005
FROM registry.example.com:5000/base
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
