// hs::files: the handler that serves a directory (see <httpserver/files.hpp>). The pieces it
// is made of are each in a file of their own beside this one: url_path (names from paths),
// root_directory (opening beneath the root), validators (ETag, dates, conditionals),
// byte_range, content_coding, mime_types, directory_listing.
#include <sys/stat.h>

#include <cerrno>
#include <memory>

#include <httpserver/files.hpp>

#include "../date_cache.hpp"
#include "../serialize.hpp"
#include "byte_range.hpp"
#include "content_coding.hpp"
#include "directory_listing.hpp"
#include "mime_types.hpp"
#include "recycling_allocator.hpp"
#include "root_directory.hpp"
#include "url_path.hpp"
#include "validators.hpp"

namespace hs {

namespace {

using static_files::RootDirectory;

struct Site {
  Site(const std::string& root, FileOptions o)
      : directory(root, o.use_openat2 ? RootDirectory::Resolution::automatic
                                      : RootDirectory::Resolution::walk),
        options(std::move(o)) {}
  RootDirectory directory;
  FileOptions options;
  std::shared_ptr<static_files::BlockPool> blocks = std::make_shared<static_files::BlockPool>();
};

// The names a request builds (the decoded name, name + ".br", dir + "/index.html", a
// redirect's Location) are built in the Response's body: a file response's body is the file,
// an error's is written after its name is done with, and the Response is reused from request
// to request, so a warm server builds them without allocating. No state of the handler's
// changes: one handler may serve on several threads at once.

void plain(Response& response, int status, std::string_view body) {
  response.status = status;
  response.set_header("Content-Type", "text/plain; charset=utf-8");
  response.body.assign(body);
}

void refuse(Response& response, int status) {
  switch (status) {
    case 400:
      return plain(response, 400, "400 Bad Request\n");
    case 403:
      return plain(response, 403, "403 Forbidden\n");
    case 404:
      return plain(response, 404, "404 Not Found\n");
    case 503:
      return plain(response, 503, "503 Service Unavailable\n");
    default:
      return plain(response, 500, "500 Internal Server Error\n");
  }
}

// What an error from opening a name means to the client. A symlink out of the root (EXDEV)
// or in a loop reads as absent: outside the root does not exist.
int status_for(int error) noexcept {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
    case EXDEV:
    case ELOOP:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case ENXIO:  // a socket, or a device with nothing behind it
    case ENODEV:
      return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return 503;
    default:
      return 500;
  }
}

struct Opened {
  UniqueFd fd;
  struct stat st {};
  int error = 0;  // errno when fd is empty
};

Opened open_beneath(const RootDirectory& directory, const std::string& name) {
  Opened o;
  int fd = directory.open(name);
  if (fd < 0) {
    o.error = -fd;
    return o;
  }
  o.fd.reset(fd);
  if (::fstat(fd, &o.st) != 0) {
    o.error = errno;
    o.fd.reset();
  }
  return o;
}

// Serves the regular file open in `file`, whose name relative to the root is `name` (in the
// response's body, which it replaces).
void serve_file(const Site& site, const Request& request, Response& response, Opened file,
                std::string& name) {
  const FileOptions& options = site.options;
  std::string_view type = static_files::content_type(name);
  if (options.precompressed) {
    response.set_header("Vary", "Accept-Encoding");
    std::string_view accept = request.header("Accept-Encoding");
    static_files::Coding codings[2];
    size_t n = accept.empty() ? 0 : static_files::preferred_codings(accept, codings);
    size_t length = name.size();
    for (size_t i = 0; i < n; ++i) {
      bool br = codings[i] == static_files::Coding::br;
      name.resize(length);
      name.append(br ? ".br" : ".gz");
      Opened sibling = open_beneath(site.directory, name);
      if (sibling.fd && S_ISREG(sibling.st.st_mode)) {
        file = std::move(sibling);
        response.set_header("Content-Encoding", br ? "br" : "gzip");
        break;
      }
    }
  }
  char etag[40];
  char modified[32];
  static_files::Validators current{
      {etag, static_files::format_etag(static_cast<uint64_t>(file.st.st_size),
                                       file.st.st_mtim.tv_sec, etag)},
      file.st.st_mtim.tv_sec};
  response.set_header("ETag", current.etag);
  response.set_header("Last-Modified",
                      {modified, format_imf_fixdate(current.last_modified, modified)});
  if (!options.cache_control.empty()) response.set_header("Cache-Control", options.cache_control);
  if (int status = static_files::evaluate_preconditions(request, current); status == 304) {
    response.status = 304;
    response.body.clear();  // the name: a 304 has no body
    return;
  } else if (status == 412) {
    return plain(response, 412, "412 Precondition Failed\n");
  }
  response.set_header("Accept-Ranges", "bytes");
  auto size = static_cast<uint64_t>(file.st.st_size);
  static_files::ByteRange range{0, size};
  static_files::RangeVerdict verdict = static_files::RangeVerdict::whole;
  if (std::string_view field = request.header("Range");
      !field.empty() && static_files::if_range_holds(request, current)) {
    verdict = static_files::parse_range(field, size, options.max_ranges, range);
  }
  // "bytes " first "-" last "/" size: at most 6 + 3 * 20 + 2 bytes.
  char content_range[72];
  size_t n = 0;
  auto put = [&](std::string_view s) {
    for (char c : s) content_range[n++] = c;
  };
  if (verdict == static_files::RangeVerdict::unsatisfiable) {
    put("bytes */");
    n += format_decimal(size, content_range + n);
    response.set_header("Content-Range", {content_range, n});
    return plain(response, 416, "416 Range Not Satisfiable\n");
  }
  response.set_header("Content-Type", type);
  if (verdict == static_files::RangeVerdict::partial) {
    put("bytes ");
    n += format_decimal(range.first, content_range + n);
    put("-");
    n += format_decimal(range.first + range.length - 1, content_range + n);
    put("/");
    n += format_decimal(size, content_range + n);
    response.set_header("Content-Range", {content_range, n});
    response.status = 206;
  } else {
    response.status = 200;
  }
  response.body.clear();  // the name: the body is the file's now
  response.send_file(
      std::allocate_shared<const OpenFile>(static_files::RecyclingAllocator<OpenFile>(site.blocks),
                                           file.fd.release()),
      range.first, range.length);
}

void serve_directory(const Site& site, const Request& request, Response& response, Opened directory,
                     std::string_view raw_path) {
  const FileOptions& options = site.options;
  // "/docs" names a directory: its relative links ("style.css") only resolve against
  // "/docs/", so send the client there, with its query.
  if (raw_path.empty() || raw_path.back() != '/') {
    // One leading slash whatever the client sent: "//host/dir" as a Location would send the
    // client to another host.
    std::string& location = response.body;
    std::string_view path = request.path();
    while (path.size() > 1 && path[0] == '/' && path[1] == '/') path.remove_prefix(1);
    location.assign(path);
    location.push_back('/');
    if (std::string_view query = request.query(); !query.empty()) {
      location.push_back('?');
      location.append(query);
    }
    response.set_header("Location", location);
    return plain(response, 301, "301 Moved Permanently\n");
  }
  if (!options.index.empty()) {
    std::string& index = response.body;  // the directory's name: extended in place
    if (!index.empty() && index.back() != '/') index.push_back('/');
    index.append(options.index);
    Opened file = open_beneath(site.directory, index);
    if (file.fd && S_ISREG(file.st.st_mode))
      return serve_file(site, request, response, std::move(file), index);
    if (file.fd && !S_ISDIR(file.st.st_mode)) return refuse(response, 403);
    if (!file.fd && file.error != ENOENT) return refuse(response, status_for(file.error));
  }
  if (!options.list_directories) return refuse(response, 403);
  if (!static_files::list_directory(directory.fd.get(), request.path(), response.body))
    return refuse(response, status_for(errno));
  response.status = 200;
  response.set_header("Content-Type", "text/html; charset=utf-8");
}

void serve(const Site& site, const Request& request, Response& response) {
  std::string_view method = request.method();
  if (method != "GET" && method != "HEAD") {
    response.set_header("Allow", "GET, HEAD");
    return plain(response, 405, "405 Method Not Allowed\n");
  }
  std::string_view path = request.path();
  const std::string& mount = site.options.mount;
  if (!mount.empty()) {
    if (path.substr(0, mount.size()) != mount) return refuse(response, 404);
    path.remove_prefix(mount.size());
    if (!path.empty() && path.front() != '/') return refuse(response, 404);  // "/staticx"
  }
  std::string& name = response.body;
  if (static_files::decode_path(path, name) != static_files::PathVerdict::ok)
    return refuse(response, 400);
  Opened opened = open_beneath(site.directory, name);
  if (!opened.fd) return refuse(response, status_for(opened.error));
  if (S_ISDIR(opened.st.st_mode))
    return serve_directory(site, request, response, std::move(opened), path);
  // A FIFO, a socket or a device: never read from the reactor, whatever it would give.
  if (!S_ISREG(opened.st.st_mode)) return refuse(response, 403);
  serve_file(site, request, response, std::move(opened), name);
}

}  // namespace

Handler files(const std::string& root, FileOptions options) {
  if (options.max_ranges == 0) options.max_ranges = 1;
  while (!options.mount.empty() && options.mount.back() == '/') options.mount.pop_back();
  auto site = std::make_shared<const Site>(root, std::move(options));
  return [site](const Request& request, Response& response) { serve(*site, request, response); };
}

}  // namespace hs
