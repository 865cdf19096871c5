#!/usr/bin/env bash
# Make a local image named debian:bookworm-slim from Debian's package mirror.
#
# Why: this machine has no container registry, so `FROM debian:bookworm-slim`
# cannot be pulled. debootstrap builds an equivalent minimal root file system
# from the apt mirror and `docker import` turns it into an image under the same
# name, so the Dockerfiles stay ordinary. Where the image exists already (pulled
# or made earlier) this does nothing.
set -euo pipefail

IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE: present"
    exit 0
fi
if docker pull "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE: pulled"
    exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    echo "base image: installing debootstrap" >&2
    apt-get install -y -q debootstrap >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
    echo "make-base-image: debootstrap needs root" >&2
    exit 1
fi

rootfs=$(mktemp -d /tmp/lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "base image $IMAGE: debootstrap bookworm from $MIRROR (takes a few minutes)"
# show_steps LOG: keep debootstrap's output in LOG and, on a terminal, redraw
# its latest step ("I: Unpacking libc6...") on one line.
show_steps() {
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line" >>"$1"
        [ ! -t 1 ] || case $line in
            I:*) printf '\rbase image: %s\033[K' "${line:3:70}" ;;
        esac
    done
    [ ! -t 1 ] || printf '\r\033[K'
}
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" 2>&1 | show_steps "$rootfs.log" || {
    tail -20 "$rootfs.log" >&2
    echo "make-base-image: debootstrap failed (log: $rootfs.log)" >&2
    exit 1
}
rm -f "$rootfs.log"

# Trim it the way the official slim image is trimmed: no package lists, no
# downloaded .debs (debootstrap leaves its ~30 MB in the archive cache), no
# documentation or translations.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias \
     -exec rm -rf {} +
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
# Every later `apt-get install` in a Dockerfile leaves no .debs and no binary
# caches in its layer either (the official image does the same).
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT

tar --numeric-owner -C "$rootfs" -c . |
    docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
echo "base image $IMAGE: made from $MIRROR"
