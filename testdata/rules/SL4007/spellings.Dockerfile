# Local sources ADD does not unpack: quoted, unpacking turned off, or a compression
# BuildKit does not decompress (lz4), so ADD copies them as they are.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4007
ADD "entrypoint.py" /opt/runner/
# expect: SL4007
ADD --unpack=false runner.tar.gz /opt/
# expect: SL4007
ADD ["tool.tar.lz4", "/opt/"]
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
