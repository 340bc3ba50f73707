FROM fedora:41@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
RUN dnf install -y --setopt=install_weak_deps=False curl && dnf clean all
RUN microdnf install -y --setopt=install_weak_deps=0 git && microdnf clean all
RUN yum install -y make && yum clean all
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
