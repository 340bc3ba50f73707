# USER in a build stage does not carry into a final stage built FROM an image.
FROM golang:1.23@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f AS build
USER 10001
RUN go build -o /out/runner ./cmd/runner

# expect: SL4001
FROM debian:bookworm-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
COPY --from=build /out/runner /usr/local/bin/runner
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
