#!/usr/bin/env bash
# Fills subprojects/packagecache/ with the source tarball of every wrap in subprojects/, so that
# Meson (`meson subprojects download`, `--wrap-mode=forcefallback`, the Containerfile's DEPS=wraps
# path) uses them instead of downloading: Meson takes a file in packagecache/ named as the wrap's
# source_filename whose sha256 equals its source_hash.
#
#   subprojects/fill-packagecache.sh [CACHE_DIR]
#
# CACHE_DIR (or $WRAP_CACHE): a directory of upstream tarballs, byte for byte; default
# ../shared/wrap-cache beside the checkout, else /work/shared/wrap-cache. Each file is checked
# against its wrap's source_hash; a missing or different file fails (exit 1) and says which.
# A file already in packagecache/ with the right hash is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

from=${1:-${WRAP_CACHE:-}}
if [ -z "$from" ]; then
  for d in "$root/../shared/wrap-cache" /work/shared/wrap-cache; do
    if [ -d "$d" ]; then from=$d; break; fi
  done
fi
[ -n "$from" ] && [ -d "$from" ] || { echo "fill-packagecache: no wrap cache directory (pass one or set WRAP_CACHE)" >&2; exit 1; }

mkdir -p "$here/packagecache"
status=0
for wrap in "$here"/*.wrap; do
  file=$(sed -n 's/^source_filename *= *//p' "$wrap")
  want=$(sed -n 's/^source_hash *= *//p' "$wrap")
  [ -n "$file" ] || continue
  dest=$here/packagecache/$file
  if [ -f "$dest" ] && [ "$(sha256sum < "$dest" | cut -d' ' -f1)" = "$want" ]; then
    echo "fill-packagecache: $file present"
    continue
  fi
  if [ ! -f "$from/$file" ]; then
    echo "fill-packagecache: $file (for $(basename "$wrap")) is not in $from" >&2
    status=1
    continue
  fi
  got=$(sha256sum < "$from/$file" | cut -d' ' -f1)
  if [ "$got" != "$want" ]; then
    echo "fill-packagecache: $from/$file has sha256 $got, $(basename "$wrap") wants $want" >&2
    status=1
    continue
  fi
  cp "$from/$file" "$dest.tmp" && mv "$dest.tmp" "$dest"
  echo "fill-packagecache: $file copied from $from"
done
exit $status
