FROM fedora:41@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN --mount=type=cache,target=/var/cache/dnf dnf install -y --setopt=install_weak_deps=False curl
RUN --mount=type=cache,target=/var/cache/libdnf5 dnf5 upgrade -y
RUN --mount=type=tmpfs,target=/var/cache dnf up -y
RUN yum update -y && rm -rf /var/cache/yum
RUN dnf makecache && dnf in -y --setopt=install_weak_deps=0 git && dnf clean all
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
