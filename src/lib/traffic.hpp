// Traffic: how the connections of one server fill in TrafficStats (options.hpp): responses by
// method and status class, the duration histogram, and the ResponseTimer that says when each
// response began and ended.
//
// Everything here is a few plain increments on the reactor's thread, inline, with no
// allocation: it sits on every request's path. The clock is read only when
// ServerOptions::time_requests asks for durations, and then once per read and once per send,
// not per request: all the requests one read completes share its time, all the responses one
// send completes share its own.
//
// Threads: the reactor's thread only.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <httpserver/options.hpp>

namespace hs {

// The CLOCK_MONOTONIC time in nanoseconds (vDSO: no system call).
inline uint64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// The label of `method`: an exact, case-sensitive match (RFC 9110 section 9.1), else other.
// The first byte and the length tell the seven apart; one comparison confirms.
inline TrafficStats::Method method_label(std::string_view method) noexcept {
  using M = TrafficStats::Method;
  auto is = [method](const char* name, size_t n) {
    return method.size() == n && std::memcmp(method.data(), name, n) == 0;
  };
  switch (method.empty() ? '\0' : method[0]) {
    case 'G':
      return is("GET", 3) ? M::kGet : M::kOtherMethod;
    case 'H':
      return is("HEAD", 4) ? M::kHead : M::kOtherMethod;
    case 'P':
      if (is("POST", 4)) return M::kPost;
      if (is("PUT", 3)) return M::kPut;
      return is("PATCH", 5) ? M::kPatch : M::kOtherMethod;
    case 'D':
      return is("DELETE", 6) ? M::kDelete : M::kOtherMethod;
    case 'O':
      return is("OPTIONS", 7) ? M::kOptions : M::kOtherMethod;
    default:
      return M::kOtherMethod;
  }
}

inline void count_response(TrafficStats& t, TrafficStats::Method method, int status) noexcept {
  // 1xx..5xx as 0..4; below 100 (as unsigned, past 4) counts with 1xx, past 599 with 5xx.
  unsigned c = static_cast<unsigned>(status - 100) / 100u;
  if (c > 4) c = status < 100 ? 0 : 4;
  ++t.responses[method][c];
}
inline void count_response(TrafficStats& t, std::string_view method, int status) noexcept {
  count_response(t, method_label(method), status);
}

// Adds `responses` observations of one duration.
inline void observe_duration(TrafficStats& t, uint64_t duration_ns, uint32_t responses) noexcept {
  size_t i = 0;
  while (i < std::size(TrafficStats::kDurationBoundsUs) &&
         duration_ns > TrafficStats::kDurationBoundsUs[i] * 1000)
    ++i;
  t.duration_buckets[i] += responses;
  t.duration_count += responses;
  t.duration_sum_ns += duration_ns * responses;
}

// The responses of one connection between the read that completed their request and the send
// that took their last byte. Offsets are into the connection's output string, which only
// grows until everything in it is sent (then it starts again at 0, with nothing pending here).
//
// Responses are kept as groups: those of requests from one read, which share a start. Two
// groups are enough for the common cases (one batch being sent, the next one answered); when
// a third read's responses queue behind both, they join the second group and are timed from
// its read, a little longer than they took. 64 bytes per connection.
class ResponseTimer {
 public:
  static constexpr size_t kOpen = SIZE_MAX;  // the end of a stream still being produced

  // Bytes have arrived: the requests they complete began now.
  void read_at(uint64_t now_ns) noexcept { read_ns_ = now_ns; }
  uint64_t last_read_ns() const noexcept { return read_ns_; }

  // A response to a request completed by the last read ends at `end` (kOpen: a stream; see
  // ended()).
  void answered(size_t end) noexcept {
    if (count_ > 0) {
      Group& last = groups_[count_ - 1];
      if (last.end != kOpen && (last.start_ns == read_ns_ || count_ == kGroups)) {
        last.end = end;
        ++last.responses;
        return;
      }
      // Behind a stream still open: cannot happen (a stream stops parsing); not timed.
      if (count_ == kGroups) return;
    }
    groups_[count_++] = {read_ns_, end, 1};
  }

  // The open stream has ended at `end`.
  void ended(size_t end) noexcept {
    if (count_ > 0 && groups_[count_ - 1].end == kOpen) groups_[count_ - 1].end = end;
  }

  // Whether sending up to `sent` completes a response: the caller then reads the clock.
  bool completes(size_t sent) const noexcept { return count_ > 0 && groups_[0].end <= sent; }

  // Everything up to `sent` has been taken by the kernel at `now_ns`.
  void sent(size_t sent, uint64_t now_ns, TrafficStats& t) noexcept {
    size_t done = 0;
    while (done < count_ && groups_[done].end <= sent) {
      const Group& g = groups_[done++];
      observe_duration(t, now_ns > g.start_ns ? now_ns - g.start_ns : 0, g.responses);
    }
    for (size_t i = done; i < count_; ++i) groups_[i - done] = groups_[i];
    count_ = static_cast<uint8_t>(count_ - done);
  }

  // The output was dropped (the connection closed): its responses never left.
  void forget() noexcept { count_ = 0; }

 private:
  static constexpr size_t kGroups = 2;
  struct Group {
    uint64_t start_ns;
    size_t end;
    uint32_t responses;
  };
  Group groups_[kGroups];
  uint64_t read_ns_ = 0;
  uint8_t count_ = 0;
};

}  // namespace hs
