FROM fedora:41@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f
# A clean before the install cleans nothing.
# expect: SL4013
RUN dnf clean all && dnf install -y --setopt=install_weak_deps=False curl
# dnf's aliases install too: no weak-deps setting, no clean.
# expect: SL4013
RUN dnf in -y git
# expect: SL4013
RUN dnf upgrade -y
# expect: SL4013
RUN microdnf reinstall -y tzdata
# A value option before the subcommand does not hide it.
# expect: SL4013
RUN dnf --enablerepo crb install -y --setopt=install_weak_deps=False make
# dnf5 caches in /var/cache/libdnf5.
# expect: SL4013
RUN dnf5 install -y --setopt=install_weak_deps=False jq && rm -rf /var/cache/dnf
HEALTHCHECK --interval=30s CMD ["test", "-f", "/opt/runner/entrypoint.py"]
USER 10001
