#!/usr/bin/env bash
# Can the wraps' source tarballs be had? Asked once, so that a suite built from the wraps skips
# at once where they cannot, instead of leaving Meson to retry downloads for minutes.
#
#   subprojects/wraps-available.sh [CACHE_DIR]
#
# Fills subprojects/packagecache/ from the wrap cache (fill-packagecache.sh, same CACHE_DIR).
# When that leaves a tarball missing, asks the first missing wrap's source_url once (one HEAD
# request, 10 s, no retry): if it answers, Meson can download what is missing.
# Exit 0 when the wraps can be had, 1 otherwise, with one line on stdout saying why not.
# WRAPS_OFFLINE=1 answers "no" without asking the network (a machine known to be offline).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if fill=$(bash "$here/fill-packagecache.sh" "$@" 2>&1); then
  exit 0
fi
missing_wrap=""
for wrap in "$here"/*.wrap; do
  file=$(sed -n 's/^source_filename *= *//p' "$wrap")
  [ -n "$file" ] && [ ! -f "$here/packagecache/$file" ] && { missing_wrap=$wrap; break; }
done
why=$(grep -m 1 -E 'not in|sha256|no wrap cache' <<<"$fill")
if [ -z "$missing_wrap" ]; then
  echo "the wrap cache does not match the wraps: $why"
  exit 1
fi
if [ "${WRAPS_OFFLINE:-0}" = 1 ]; then
  echo "$(basename "$missing_wrap")'s tarball is not in the wrap cache ($why) and WRAPS_OFFLINE=1"
  exit 1
fi
url=$(sed -n 's/^source_url *= *//p' "$missing_wrap")
# Any answer but "not found" means the host is there (some refuse HEAD: 403, 405); no answer
# at all (code 000) means it cannot be reached from here.
if command -v curl >/dev/null; then
  code=$(curl -sS -o /dev/null -I -L --max-time 10 --retry 0 -w '%{http_code}' "$url" 2>/dev/null)
else
  code=$(python3 -c '
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="HEAD"), timeout=10)
    print(200)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")' "$url")
fi
case ${code:-000} in
  000|404|410)
    echo "$(basename "$missing_wrap")'s tarball is neither in the wrap cache ($why) nor downloadable (one try, 10 s: ${code:-000}); WRAP_CACHE=DIR names a directory that holds the tarballs"
    exit 1 ;;
esac
exit 0
