#!/usr/bin/env bash
# Makes the builder's base image locally when it cannot be pulled (no registry is reachable on
# the project's machines): debootstrap --variant=minbase of a Debian suite from the mirror that
# apt on this machine already uses, imported into podman and tagged with the exact name the
# Containerfile's FROM uses. Does nothing when that image already exists (it is kept as a cache).
#
#   make_base_image.sh [IMAGE [SUITE]]
#     IMAGE  default docker.io/library/debian:trixie-slim (the Containerfile's default BASE)
#     SUITE  default trixie
# Env: MIRROR overrides the mirror read from apt's sources; CACHE (default
# /var/cache/httpserver-ct) keeps debootstrap's downloaded packages (debootstrap/) and the
# finished root file system (base-SUITE.tar), so that a machine whose podman storage was reset
# imports the tarball again in seconds instead of running debootstrap.
set -euo pipefail

image=${1:-docker.io/library/debian:trixie-slim}
suite=${2:-trixie}
cache=${CACHE:-/var/cache/httpserver-ct}
tarball=$cache/base-$suite.tar

if podman image exists "$image"; then
    echo "base image $image: present (cached)"
    exit 0
fi

import_tarball() {
    podman import -q --change 'CMD ["bash"]' \
        --change "LABEL org.opencontainers.image.description=debootstrap-minbase-$suite" \
        - "localhost/debootstrap:$suite-minbase" >/dev/null < "$1"
    podman tag "localhost/debootstrap:$suite-minbase" "$image"
}
if [ -s "$tarball" ]; then
    start=$(date +%s)
    import_tarball "$tarball"
    echo "base image $image: imported from $tarball in $(( $(date +%s) - start )) s"
    exit 0
fi

# The first Debian archive URI apt uses here (not the security archive). Read at run time: no
# mirror host name is written in any file of the project.
apt_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return 0; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($i !~ /security/) { print $i; exit } else break } }' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return 0; fi
    done
    return 1
}

mirror=${MIRROR:-$(apt_mirror || true)}
if [ -z "$mirror" ]; then
    echo "FAIL: no Debian mirror found in /etc/apt/sources.list{,.d/*} (set MIRROR)" >&2
    exit 1
fi

command -v debootstrap >/dev/null || { echo "FAIL: debootstrap is not installed" >&2; exit 1; }

root=$(mktemp -d /var/tmp/httpserver-base.XXXXXX)
cleanup() { rm -rf --one-file-system "$root"; }
trap cleanup EXIT

echo "base image $image: debootstrap --variant=minbase $suite (mirror from apt's sources)"
start=$(date +%s)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
keyopt=()
[ -r "$keyring" ] && keyopt=(--keyring="$keyring")
mkdir -p "$cache/debootstrap"
if ! timeout --foreground 900 debootstrap --variant=minbase --cache-dir="$cache/debootstrap" "${keyopt[@]}" "$suite" "$root" "$mirror" \
        > "$root.log" 2>&1; then
    tail -n 30 "$root.log" >&2
    rm -f "$root.log"
    echo "FAIL: debootstrap $suite failed" >&2
    exit 1
fi
rm -f "$root.log"

# Slim it the way the official -slim images are: no apt lists, caches, docs, man pages, logs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
# Keep apt from fetching or keeping what the build does not need.
cat > "$root/etc/apt/apt.conf.d/90container" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
CONF
# The official images carry this policy too: no service starts during apt-get install.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
import_tarball "$tarball"
echo "base image $image: made in $(( $(date +%s) - start )) s, $(podman image inspect --format '{{.Size}}' "$image") bytes"
