# syntax=docker/dockerfile:1.7
FROM python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
run python3 <<EOT
print("heredoc after a command")
EOT
RUN <<-EOT cat >/etc/motd && <<EOF2 cat >/etc/issue
	sandbox
	EOT
runner
EOF2
COPY <<EOF /opt/runner/README
FROM not-an-instruction
EOF
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
