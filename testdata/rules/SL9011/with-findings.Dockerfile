# A refused instruction does not hide the findings of the rest of the file.
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# expect: SL9011
COPPY app.py /app/
HEALTHCHECK CMD ["true"]
# expect: SL4001
USER root
