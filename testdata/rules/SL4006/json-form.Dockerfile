FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4006
ADD ["https://example.com/tool", "/usr/local/bin/tool"]
# expect: SL4006
ADD ["rootfs.tar.zst", "/opt/"]
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
