// Files: a Handler that serves a directory as people expect of a static server, and nothing
// outside it.
//
//   hs::FileOptions site;
//   site.mount = "/static";  // /static/a.css is /srv/site/a.css
//   hs::Router router;
//   router.get("/healthz", healthz).prefix("/static/", hs::files("/srv/site", site));
//
// What it answers (RFC 9110), for GET and HEAD (405 with "Allow: GET, HEAD" otherwise):
// - a regular file: 200 with its bytes, sent by the connection from the page cache
//   (Response::send_file), Content-Type from a built-in table of web types by extension
//   (application/octet-stream for the rest), a strong ETag ("<mtime hex>-<size hex>", nginx's
//   form) and Last-Modified; Accept-Ranges: bytes.
// - conditionals: If-Match and If-Unmodified-Since (412), If-None-Match (weak comparison,
//   lists, "*") and If-Modified-Since (304); If-None-Match wins over If-Modified-Since.
// - Range: one range (first-last, first-, -suffix) is 206 with Content-Range; ranges that
//   overlap or touch are merged into one; several pieces, more than `max_ranges` ranges, or a
//   field that does not parse get the whole file, 200 (no multipart/byteranges); a range
//   that starts past the end is 416 with "Content-Range: bytes */LENGTH". If-Range with an
//   ETag (strong match) or a date (equal to Last-Modified) decides whether Range counts.
// - a directory: its `index` file; without one, a listing (HTML, names escaped, sorted by
//   byte value) when `list_directories` is set, else 403. A directory named without its
//   trailing slash is redirected there, 301, query kept, as nginx does.
// - precompressed siblings: with `precompressed`, "name.br" or "name.gz" is sent instead of
//   "name" when the client's Accept-Encoding takes that coding (q above 0; br first on a tie),
//   with Content-Encoding, the original's Content-Type and "Vary: Accept-Encoding" on every
//   file response.
// - refused, and the connection goes on: a malformed percent-escape (400); "..", an encoded
//   slash, a backslash or NUL in any spelling (400); a name beneath the root that does not
//   exist, or a symlink that leads out of the root (404: outside does not exist); anything
//   that is neither a regular file nor a directory, a FIFO, a socket, a device (403); a file
//   the server may not read (403).
//
// Names are resolved beneath the root by the kernel (openat2 RESOLVE_BENEATH) or a checked
// walk where the kernel lacks it; see src/lib/files/root_directory.hpp. Files over 4 GiB are
// served whole and by range (64-bit offsets throughout).
#pragma once

#include <string>

#include <httpserver/export.hpp>
#include <httpserver/middleware.hpp>

namespace hs {

struct FileOptions {
  // The URL path that maps to the root: "/static" serves "/static/a.css" from ROOT/a.css, and
  // answers 404 for a path outside it. Empty: the root is "/".
  std::string mount;
  // The file a directory answers with; empty: none.
  std::string index = "index.html";
  // An HTML listing of a directory that has no index file (else 403).
  bool list_directories = false;
  // The Cache-Control value of every file response (200, 206, 304); empty: no field.
  std::string cache_control;
  // Serve "name.br" / "name.gz" to clients that accept br / gzip.
  bool precompressed = false;
  // The most ranges a Range field may list before it is ignored (the whole file is sent):
  // bounds the work one request can ask for. At most 64.
  unsigned max_ranges = 16;
  // False: resolve names by the checked component walk even where openat2 exists (what
  // kernels before 5.6 get; for tests).
  bool use_openat2 = true;
};

// A Handler serving the directory `root`. Opens `root` now and keeps it open: throws
// std::system_error when it cannot (missing, not a directory, no permission).
HS_API Handler files(const std::string& root, FileOptions options = {});

}  // namespace hs
