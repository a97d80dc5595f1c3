#include "files/mime_types.hpp"

#include <gtest/gtest.h>

namespace hs::static_files {
namespace {

TEST(MimeTypes, NamesTheCommonWebTypesByExtension) {
  const std::pair<const char*, const char*> cases[] = {
      {"index.html", "text/html; charset=utf-8"},
      {"a/b.CSS", "text/css; charset=utf-8"},
      {"app.js", "text/javascript; charset=utf-8"},
      {"mod.mjs", "text/javascript; charset=utf-8"},
      {"data.json", "application/json"},
      {"app.js.map", "application/json"},
      {"logo.svg", "image/svg+xml"},
      {"x.png", "image/png"},
      {"x.jpg", "image/jpeg"},
      {"x.JPEG", "image/jpeg"},
      {"x.gif", "image/gif"},
      {"x.webp", "image/webp"},
      {"x.avif", "image/avif"},
      {"favicon.ico", "image/x-icon"},
      {"f.woff", "font/woff"},
      {"f.woff2", "font/woff2"},
      {"f.ttf", "font/ttf"},
      {"notes.txt", "text/plain; charset=utf-8"},
      {"feed.xml", "text/xml; charset=utf-8"},
      {"doc.pdf", "application/pdf"},
      {"m.wasm", "application/wasm"},
      {"v.mp4", "video/mp4"},
      {"v.webm", "video/webm"},
      {"s.mp3", "audio/mpeg"},
      {"a.zip", "application/zip"},
      {"a.tar.gz", "application/gzip"},
      {"a.tar", "application/x-tar"},
      {"t.csv", "text/csv; charset=utf-8"},
      {"README.md", "text/markdown; charset=utf-8"},
  };
  for (auto [name, type] : cases) EXPECT_EQ(content_type(name), type) << name;
}

TEST(MimeTypes, AnythingElseIsAnOctetStream) {
  for (const char* name :
       {"firmware.bin", "noextension", ".bashrc", "dir.html/file", "trailing.", "x.exe", ""})
    EXPECT_EQ(content_type(name), "application/octet-stream") << name;
}

}  // namespace
}  // namespace hs::static_files
