// Runs of bytes of one class, skipped sixteen at a time: the field values, names and targets
// of a request head, which a browser's request has some 600 bytes of.
//
// Each function returns the first byte at or after p that may be outside its class, looking
// only at whole groups of 16 inside [p, end); it never skips a byte outside the class but may
// stop early (at the last, partial group, or at a byte of the class it cannot tell at once).
// The caller goes on byte by byte from there with its exact table, so these only decide how
// fast a head is read, never what is accepted.
//
// On x86-64 (SSE2) and AArch64 (Advanced SIMD) the comparisons are GCC vector extensions over
// 16 bytes: about 10 instructions a group where a table lookup per byte costs 4 to 5 a byte
// (callgrind on bench/load/scenarios/browser_heads.txt). Elsewhere (armhf has no SIMD to count
// on) values and targets go eight bytes at a time in a 64-bit word, and names byte by byte.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hs {

#if defined(__SSE2__) || (defined(__ARM_NEON) && defined(__AARCH64EL__))

namespace detail {

// Signed: a byte of 0x80 or above is negative, so `< 0x20` finds controls and non-ASCII at once.
using Bytes16 = signed char __attribute__((vector_size(16)));

inline Bytes16 load16(const char* p) noexcept {
  Bytes16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The offset of the first byte of `stop` (each byte all ones or all zeros), or 16 for none.
inline unsigned first_set(Bytes16 stop) noexcept {
#if defined(__SSE2__)
  unsigned bits = static_cast<unsigned>(_mm_movemask_epi8(reinterpret_cast<__m128i>(stop)));
  return bits != 0 ? static_cast<unsigned>(std::countr_zero(bits)) : 16;
#else
  uint64_t half[2];
  std::memcpy(half, &stop, sizeof half);
  if (half[0] != 0) return static_cast<unsigned>(std::countr_zero(half[0])) / 8;
  if (half[1] != 0) return 8 + static_cast<unsigned>(std::countr_zero(half[1])) / 8;
  return 16;
#endif
}

// Skips whole groups of 16 in which `stops` finds nothing; stops inside the first one in which
// it does, at that byte.
template <class Stops>
[[gnu::always_inline]] inline const char* skip_groups(const char* p, const char* end,
                                                      Stops stops) noexcept {
  for (; end - p >= 16; p += 16) {
    unsigned at = first_set(stops(load16(p)));
    if (at != 16) return p + at;
  }
  return p;
}

}  // namespace detail

// A field value's bytes: 0x20..0x7e (HTAB, also allowed, stops it).
[[gnu::always_inline]] inline const char* skip_value_run(const char* p, const char* end) noexcept {
  return detail::skip_groups(p, end, [](detail::Bytes16 v) { return (v < 0x20) | (v == 0x7f); });
}

// A request-target's bytes: 0x21..0x7e but '#'.
[[gnu::always_inline]] inline const char* skip_target_run(const char* p, const char* end) noexcept {
  return detail::skip_groups(
      p, end, [](detail::Bytes16 v) { return (v < 0x21) | (v == 0x7f) | (v == '#'); });
}

// The letters and '-' that nearly every field name is made of (a subset of tchar).
[[gnu::always_inline]] inline const char* skip_name_run(const char* p, const char* end) noexcept {
  return detail::skip_groups(p, end, [](detail::Bytes16 v) {
    detail::Bytes16 lower = v | 0x20;  // ASCII letters to lower case; nothing else becomes one
    return ~(((lower >= 'a') & (lower <= 'z')) | (v == '-'));
  });
}

#else

namespace detail {

constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kHighs = kOnes * 0x80;

// Eight bytes at a time over bytes in 0x21..0x7e but '#' (a target's) or, with `space`,
// 0x20..0x7e (a value's). The tricks can also flag a byte above one that is flagged rightly
// (through a borrow), never one below: the lowest flag is exact.
inline const char* skip_visible(const char* p, const char* end, bool space) noexcept {
  const uint64_t low = kOnes * (space ? 0x20 : 0x21);
  for (uint64_t w; end - p >= 8; p += 8) {
    std::memcpy(&w, p, 8);
    uint64_t below = (w - low) & ~w;   // a byte < low
    uint64_t above = (w + kOnes) | w;  // a byte > 0x7e
    uint64_t x = w ^ (kOnes * '#');
    uint64_t hash = space ? 0 : (x - kOnes) & ~x;  // a '#' in a target
    if (uint64_t found = (below | above | hash) & kHighs) {
      if constexpr (std::endian::native == std::endian::little)
        return p + std::countr_zero(found) / 8;
      else
        return p;
    }
  }
  return p;
}

}  // namespace detail

[[gnu::always_inline]] inline const char* skip_value_run(const char* p, const char* end) noexcept {
  return detail::skip_visible(p, end, true);
}
[[gnu::always_inline]] inline const char* skip_target_run(const char* p, const char* end) noexcept {
  return detail::skip_visible(p, end, false);
}
[[gnu::always_inline]] inline const char* skip_name_run(const char* p, const char*) noexcept {
  return p;
}

#endif

}  // namespace hs
