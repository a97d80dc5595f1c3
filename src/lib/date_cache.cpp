#include "date_cache.hpp"

#include <time.h>

#include <cstring>

namespace hs {

// IMF-fixdate by hand: strftime's %a and %b follow the locale a host may have set.
size_t format_imf_fixdate(std::time_t t, char* out) noexcept {
  static constexpr char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm;
  ::gmtime_r(&t, &tm);
  auto two = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  std::memcpy(out, kDays[tm.tm_wday], 3);
  std::memcpy(out + 3, ", ", 2);
  two(out + 5, tm.tm_mday);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths[tm.tm_mon], 3);
  out[11] = ' ';
  int year = tm.tm_year + 1900;
  two(out + 12, year / 100 % 100);
  two(out + 14, year % 100);
  out[16] = ' ';
  two(out + 17, tm.tm_hour);
  out[19] = ':';
  two(out + 20, tm.tm_min);
  out[22] = ':';
  two(out + 23, tm.tm_sec);
  std::memcpy(out + 25, " GMT", 4);
  return 29;
}

std::string_view DateCache::now() noexcept {
  std::time_t t = std::time(nullptr);  // vDSO: no system call
  if (t != second_) {
    second_ = t;
    length_ = format_imf_fixdate(t, text_);
  }
  return {text_, length_};
}

std::string_view DateCache::refresh(uint64_t monotonic_ms) noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);  // vDSO: no system call
  if (ts.tv_sec != second_) {
    second_ = ts.tv_sec;
    length_ = format_imf_fixdate(ts.tv_sec, text_);
  }
  // The rest of this second, counted from a monotonic reading taken no later than the wall
  // clock's: if anything, it ends early.
  valid_until_ms_ = monotonic_ms + 1000 - static_cast<uint64_t>(ts.tv_nsec) / 1000000;
  return {text_, length_};
}

std::string DateCache::format(std::time_t t) {
  char text[32];
  return {text, format_imf_fixdate(t, text)};
}

}  // namespace hs
