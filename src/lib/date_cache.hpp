// DateCache: the Date header's value, formatted at most once a second. Internal: the
// responder and the server take it for every response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace hs {

// Writes `t` (seconds since the epoch) as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT",
// into `out` (at least 29 bytes); returns its length, 29.
size_t format_imf_fixdate(std::time_t t, char* out) noexcept;

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

}  // namespace hs
