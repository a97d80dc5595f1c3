#include "directory_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "url_path.hpp"

namespace hs::static_files {

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
}

bool list_directory(int dir_fd, std::string_view url_path, std::string& out) {
  int own = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);  // closedir() closes it, not the caller's
  if (own < 0) return false;
  DIR* dir = ::fdopendir(own);
  if (dir == nullptr) {
    int error = errno;
    ::close(own);
    errno = error;
    return false;
  }
  ::rewinddir(dir);
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  errno = 0;
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {  // file systems that do not fill d_type
      struct stat st;
      is_dir =
          ::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    entries.emplace_back(std::string(name), is_dir);
  }
  int error = errno;
  ::closedir(dir);
  if (error != 0) {
    errno = error;
    return false;
  }
  std::sort(entries.begin(), entries.end());
  out.clear();
  out.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
  append_html_escaped(out, url_path);
  out.append("</title></head>\n<body><h1>Index of ");
  append_html_escaped(out, url_path);
  out.append("</h1>\n<ul>\n");
  if (url_path != "/") out.append("<li><a href=\"../\">../</a></li>\n");
  std::string href;
  for (const auto& [name, is_dir] : entries) {
    href.clear();
    append_encoded_segment(href, name);
    out.append("<li><a href=\"./");  // "./": a name with a ':' is not read as a scheme
    append_html_escaped(out, href);
    if (is_dir) out.push_back('/');
    out.append("\">");
    append_html_escaped(out, name);
    if (is_dir) out.push_back('/');
    out.append("</a></li>\n");
  }
  out.append("</ul></body></html>\n");
  return true;
}

}  // namespace hs::static_files
