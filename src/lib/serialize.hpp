// Serialization: a handler's Response written out as HTTP/1.1 bytes, with what the connection
// adds to it (Date, Server, Content-Length or the framing of a streamed body, Connection),
// and the Date value cache it takes the time from. Internal: the connection and the server
// call it; a host never does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include <httpserver/http.hpp>

namespace hs {

// The Date header's value in IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted at
// most once a second. One per thread (a reactor's), not shared.
class DateCache {
 public:
  // Reads the wall clock.
  std::string_view now() noexcept;
  // The same, given the time by a monotonic clock in milliseconds (the reactor's now_ms(),
  // read once per loop iteration): the wall clock is read again only once the second last
  // formatted is over, so most responses take the value with one comparison.
  std::string_view now(uint64_t monotonic_ms) noexcept {
    if (monotonic_ms < valid_until_ms_) return {text_, length_};
    return refresh(monotonic_ms);
  }
  // Formats `t` (seconds since the epoch); for tests.
  static std::string format(std::time_t t);

 private:
  std::string_view refresh(uint64_t monotonic_ms) noexcept;

  std::time_t second_ = -1;
  uint64_t valid_until_ms_ = 0;  // by the caller's monotonic clock
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
  bool upgrade = false;        // a 101 that switches protocols: "Connection: Upgrade"
  // How the body is delimited: Content-Length and the body (the default), or only the head
  // of a streamed body that follows, chunked or delimited by closing the connection.
  enum class Framing { length, chunked, until_close } framing = Framing::length;
};

// Appends the status line, fields, Content-Length and body of `response` to `out`.
// Allocates nothing when `out` has the capacity, once the response has been serialized
// before: it keeps a copy of the last head it got (status line, Server, Date, fields), reused
// while they stay the same. That copy is written even though `response` is const: one thread
// at a time per Response.
void serialize(const Response& response, const ResponseContext& context, std::string& out);

// Writes `t` (seconds since the epoch) as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT",
// into `out` (at least 29 bytes); returns its length, 29.
size_t format_imf_fixdate(std::time_t t, char* out) noexcept;

// Writes an unsigned number in decimal into `out` (at least 20 bytes); returns its length.
size_t format_decimal(uint64_t value, char* out) noexcept;

}  // namespace hs
