# Quotes do not hide what ADD fetches or unpacks: BuildKit removes them.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL4006
ADD "https://example.com/tool" /usr/local/bin/tool
# expect: SL4006
ADD 'runner.tar.gz' /opt/
# expect: SL4006
ADD "HTTP://EXAMPLE.COM/tool" /usr/local/bin/tool2
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
