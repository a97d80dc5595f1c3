#include "mime_types.hpp"

#include <httpserver/http.hpp>

namespace hs::static_files {

namespace {

// Characters, not views: a table of pointers would be relocated into writable data at load
// time; this one stays read-only.
struct Entry {
  char extension[12];
  char type[32];
};

// The common web types (the WHATWG's and IANA's names; nginx's mime.types agrees on these).
constexpr Entry kTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "text/xml; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"ogv", "video/ogg"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"br", "application/octet-stream"},
    {"zst", "application/zstd"},
    {"xz", "application/x-xz"},
};

}  // namespace

std::string_view content_type(std::string_view name) noexcept {
  auto slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  auto dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) {
    std::string_view extension = name.substr(dot + 1);
    for (const Entry& e : kTypes)
      if (iequals(e.extension, extension)) return e.type;  // both NUL-terminated
  }
  return "application/octet-stream";
}

}  // namespace hs::static_files
