// Runs of bytes of one class, read sixteen at a time: a request's target and its field names.
// (Field values are found by their end instead: control_bytes.hpp.)
//
// skip_target_run() returns the first byte at or after p that may be outside a target's
// bytes, looking only at whole groups of 16 inside [p, end); it never skips a byte outside the
// class but may stop early (at the last, partial group). name_run16() counts the letters and
// '-' that open the 16 bytes at p. The caller goes on byte by byte from where either stops
// with its exact table, so these only decide how fast a head is read, never what is accepted.
//
// On x86-64 (SSE2) and AArch64 (Advanced SIMD) the comparisons are GCC vector extensions over
// 16 bytes: about 10 instructions a group where a table lookup per byte costs 4 to 5 a byte
// (callgrind on bench/load/scenarios/browser_heads.txt). Elsewhere (armhf has no SIMD to count
// on) targets go eight bytes at a time in a 64-bit word, and names byte by byte.
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

// Bit i set when byte i of `stop` (each byte all ones or all zeros) is.
inline unsigned bits16(Bytes16 stop) noexcept {
#if defined(__SSE2__)
  return static_cast<unsigned>(_mm_movemask_epi8(reinterpret_cast<__m128i>(stop)));
#else
  // Each half's eight high bits gathered into its top byte (no two products overlap).
  constexpr uint64_t kHighs = 0x8080808080808080;
  uint64_t half[2];
  std::memcpy(half, &stop, sizeof half);
  return static_cast<unsigned>((((half[0] & kHighs) >> 7) * 0x0102040810204080) >> 56) |
         static_cast<unsigned>((((half[1] & kHighs) >> 7) * 0x0102040810204080) >> 56) << 8;
#endif
}

// Skips whole groups of 16 in which `stops` finds nothing; stops inside the first one in which
// it does, at that byte.
template <class Stops>
[[gnu::always_inline]] inline const char* skip_groups(const char* p, const char* end,
                                                      Stops stops) noexcept {
  for (; end - p >= 16; p += 16) {
    // The offset of the first stop, or 16 for none.
    auto at = static_cast<unsigned>(std::countr_zero(bits16(stops(load16(p))) | 0x10000u));
    if (at != 16) return p + at;
  }
  return p;
}

}  // namespace detail

// A request-target's bytes: 0x21..0x7e but '#'.
[[gnu::always_inline]] inline const char* skip_target_run(const char* p, const char* end) noexcept {
  return detail::skip_groups(
      p, end, [](detail::Bytes16 v) { return (v < 0x21) | (v == 0x7f) | (v == '#'); });
}

// How many of the 16 bytes at p are letters or '-', the bytes nearly every field name is made
// of (a subset of tchar), before the first that is not: 16 when all are.
[[gnu::always_inline]] inline unsigned name_run16(const char* p) noexcept {
  using UBytes16 = unsigned char __attribute__((vector_size(16)));
  detail::Bytes16 v = detail::load16(p);
  // ASCII letters to lower case (nothing else becomes one), then moved to the bottom of the
  // signed range: a letter is then below -128 + 26, in one comparison.
  auto lower = reinterpret_cast<UBytes16>(v | 0x20);
  auto moved = reinterpret_cast<detail::Bytes16>(lower + static_cast<unsigned char>(0x80 - 'a'));
  unsigned run = detail::bits16((moved < -128 + 26) | (v == '-'));
  return static_cast<unsigned>(std::countr_zero(~run));  // 16 when all 16 bits are set
}

#else

namespace detail {

constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kHighs = kOnes * 0x80;

// Eight bytes at a time over bytes in 0x21..0x7e but '#' (a target's). The tricks can also
// flag a byte above one that is flagged rightly (through a borrow), never one below: the
// lowest flag is exact.
inline const char* skip_target_bytes(const char* p, const char* end) noexcept {
  const uint64_t low = kOnes * 0x21;
  for (uint64_t w; end - p >= 8; p += 8) {
    std::memcpy(&w, p, 8);
    uint64_t below = (w - low) & ~w;   // a byte < low
    uint64_t above = (w + kOnes) | w;  // a byte > 0x7e
    uint64_t x = w ^ (kOnes * '#');
    uint64_t hash = (x - kOnes) & ~x;  // a '#'
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

[[gnu::always_inline]] inline const char* skip_target_run(const char* p, const char* end) noexcept {
  return detail::skip_target_bytes(p, end);
}
[[gnu::always_inline]] inline unsigned name_run16(const char*) noexcept { return 0; }

#endif

}  // namespace hs
