# Every compression BuildKit decompresses before looking for a tar inside.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4006
ADD layer.tar /opt/a/
# expect: SL4006
ADD layer.tar.bz2 /opt/b/
# expect: SL4006
ADD layer.tbz2 /opt/c/
# expect: SL4006
ADD layer.tar.xz /opt/d/
# expect: SL4006
ADD layer.txz /opt/e/
# expect: SL4006
ADD layer.gz /opt/f/
# expect: SL4006
ADD layer.ZST /opt/g/
# expect: SL4006
ADD --unpack layer.tar.gz https://example.com/tool /opt/h/
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
