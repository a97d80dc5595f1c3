#!/usr/bin/env bash
# A browser loading a page served by --root: headless Chromium (Debian's chromium) fetches
# index.html, its stylesheet, its script (an ES module importing another) and its images.
# --dump-dom shows what the script wrote once the page had loaded (the stylesheet's colour
# applied, each image decoded to its size), and the access log shows every asset answered
# 200. Skips with one line where Chromium is not installed.
#
# usage: files_chromium_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve.sh"
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "SKIP: chromium missing (apt-get install chromium)"; exit 77; }

site=$dir/site
mkdir -p "$site/img" "$site/js"
cat >"$site/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>files</title>
<link rel="stylesheet" href="style.css">
<script type="module" src="js/app.mjs"></script>
</head><body>
<img id="a" src="img/dot.png"><img id="b" src="img/logo.svg">
<p id="styled">styled</p>
</body></html>
HTML
printf '#styled { color: rgb(1, 2, 3); }\n' >"$site/style.css"
printf 'export const word = "imported";\n' >"$site/js/lib.mjs"
cat >"$site/js/app.mjs" <<'JS'
import { word } from "./lib.mjs";
window.addEventListener("load", () => {
  const color = getComputedStyle(document.getElementById("styled")).color;
  const a = document.getElementById("a"), b = document.getElementById("b");
  const out = document.createElement("div");
  out.id = "result";
  out.textContent = `script ran: ${word}; color ${color}; png ${a.naturalWidth}x${a.naturalHeight}; svg ${b.naturalWidth}x${b.naturalHeight}`;
  document.body.appendChild(out);
});
JS
printf '<svg xmlns="http://www.w3.org/2000/svg" width="7" height="5"><rect width="7" height="5"/></svg>\n' \
  >"$site/img/logo.svg"
"$py" - "$site/img/dot.png" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
w, h = 3, 2
raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
       chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY

start_server --root "$site" --access-log
dom=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --no-first-run --user-data-dir="$dir/profile" --virtual-time-budget=5000 \
  --dump-dom "http://$app/" 2>"$dir/chromium.err") || { cat "$dir/chromium.err" >&2; fail "chromium"; }
expected='script ran: imported; color rgb(1, 2, 3); png 3x2; svg 7x5'
grep -qF "$expected" <<<"$dom" || { echo "$dom" >&2; fail "the page's script did not report: $expected"; }

sleep 0.3  # the log is flushed once per loop iteration
for asset in / /style.css /js/app.mjs /js/lib.mjs /img/dot.png /img/logo.svg; do
  grep -E " target=\"?$asset\"?( |$)" "$dir/err" | grep -q 'status=200' ||
    fail "no access line with status=200 for $asset"
done
bad=$(grep 'status=' "$dir/err" | grep -v 'status=200' | grep -v 'target=/favicon.ico' || true)
[ -z "$bad" ] || fail "answers other than 200: $bad"
echo "PASS: chromium loaded the page, its CSS, module scripts and images, all 200"
