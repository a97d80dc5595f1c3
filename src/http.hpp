// HTTP message types: Request (what a handler reads) and Response (what it fills in), the
// status texts, and the Date header cache.
//
// A Request is a set of views. Method, target, header names and values and the body point into
// the connection's buffers and stay valid until the handler returns; copy what must live
// longer. A Response is reused from request to request: clear() keeps the capacity of its
// strings, so a warm server fills it without allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hs {

struct Header {
  std::string_view name;
  std::string_view value;  // optional whitespace around it removed
};

// Case-insensitive ASCII comparison, as field names and tokens are compared.
bool iequals(std::string_view a, std::string_view b) noexcept;

class Request {
 public:
  std::string_view method() const noexcept { return method_; }
  // The request-target exactly as the client sent it: "/a/b?x=1", "*" or "http://h/p".
  std::string_view target() const noexcept { return target_; }
  // The path of the target, without the query ("/a/b"; the path part of an absolute form).
  std::string_view path() const noexcept { return path_; }
  // The query without the '?', empty when there is none.
  std::string_view query() const noexcept { return query_; }
  int version_major() const noexcept { return version_major_; }
  int version_minor() const noexcept { return version_minor_; }
  std::span<const Header> headers() const noexcept { return {headers_, header_count_}; }
  // The first value of the named field, or an empty view when absent.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
  // The whole body: Content-Length bytes, or the decoded chunks of a chunked body.
  std::string_view body() const noexcept { return body_; }
  // Whether the connection stays open after this request (version and Connection field).
  bool keep_alive() const noexcept { return keep_alive_; }

  // Filled in by the connection that parsed the request (and by tests).
  void set(std::string_view method, std::string_view target, int major, int minor,
           std::span<const Header> headers, std::string_view body, bool keep_alive) noexcept;

 private:
  std::string_view method_, target_, path_, query_, body_;
  const Header* headers_ = nullptr;
  size_t header_count_ = 0;
  int version_major_ = 1, version_minor_ = 1;
  bool keep_alive_ = true;
};

class Response {
 public:
  int status = 200;
  std::string body;

  // Sets a field, replacing an earlier one of the same name. Date, Server, Content-Length,
  // Transfer-Encoding and Connection are the server's: set here they are ignored, except
  // "Connection: close", which closes the connection after this response.
  void set_header(std::string_view name, std::string_view value);
  // Adds a field even if one of that name exists (Set-Cookie).
  void add_header(std::string_view name, std::string_view value);
  // The first value of the named field, or an empty view.
  std::string_view header(std::string_view name) const noexcept;
  std::span<const std::pair<std::string, std::string>> headers() const noexcept {
    return {fields_.data(), count_};
  }
  // Back to 200, no fields, empty body; keeps every string's capacity.
  void clear() noexcept;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // [0, count_) are live
  size_t count_ = 0;
};

// "OK", "Not Found", ...; "Unknown" for codes without a registered text.
std::string_view status_text(int status) noexcept;

// Whether a response with this status to this method carries no body (1xx, 204, 304, HEAD).
bool response_has_no_body(int status, std::string_view method) noexcept;

// The Date header's value in IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted at
// most once a second. One per thread (a reactor's), not shared.
class DateCache {
 public:
  std::string_view now() noexcept;
  // Formats `t` (seconds since the epoch); for tests.
  static std::string format(std::time_t t);

 private:
  std::time_t second_ = -1;
  char text_[32] = {};
  size_t length_ = 0;
};

// What the connection adds to a handler's Response when it writes it out.
struct ResponseContext {
  std::string_view date;       // DateCache::now()
  std::string_view server;     // the Server field's value; empty: no Server field
  std::string_view method;     // of the request: HEAD gets the headers of GET without the body
  bool close = false;          // add "Connection: close"
  bool keep_alive_10 = false;  // an HTTP/1.0 client asked for keep-alive: confirm it
};

// Appends the status line, fields, Content-Length and body of `response` to `out`.
// Allocates nothing when `out` has the capacity.
void serialize(const Response& response, const ResponseContext& context, std::string& out);

// Writes an unsigned number in decimal into `out` (at least 20 bytes); returns its length.
size_t format_decimal(uint64_t value, char* out) noexcept;

}  // namespace hs
