// RequestIds: the id of each request, for the access log, the X-Request-Id response field and
// Request::request_id().
//
// A request keeps the id its client (or a proxy in front) sent in X-Request-Id when it is
// sane: 1 to 128 bytes of printable ASCII (0x20-0x7e), so that it can go into a log line and
// back into a response field as it is. Otherwise it gets one made here: 32 hex digits, a
// random 64-bit prefix drawn once per RequestIds (getrandom: one system call per worker, at
// start-up) and a 64-bit counter. Unique across workers and restarts as far as 64 random
// bits go, and ordered within a worker; no system call and no allocation per request.
//
// Threads: one RequestIds per reactor; not locked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hs {

class RequestIds {
 public:
  static constexpr size_t kMaxBytes = 128;

  // Draws the prefix; throws std::system_error when getrandom fails.
  RequestIds();

  static bool sane(std::string_view id) noexcept;

  // `sent` when sane, else the next made-up id, which stays valid until the next call.
  std::string_view choose(std::string_view sent) noexcept { return sane(sent) ? sent : next(); }
  std::string_view next() noexcept;

 private:
  char made_[32];  // the prefix's 16 hex digits stay; the counter's follow
};

}  // namespace hs
