// Where the control bytes of a request head are, found 64 bytes at a time.
//
// A field line may hold only visible ASCII, spaces and tabs before the CR that ends it. So in
// a well-formed head, the first "control byte" (below 0x20, DEL, or 0x80 and above) of a line
// is its CR, or a tab inside its value. parse_common_head() asks for that byte once per line,
// before reading the line's name and value, which then need no check for the end of the
// buffer. Classifying the head 64 bytes at a time into one bit per byte (about 25
// instructions: 4 loads, 8 byte operations, 4 gathers of the sign bits) and taking the next
// bit with a bit scan costs less than scanning each value on its own, which paid a loop's
// setup and exit for every one of a browser's 13 field lines.
//
// On x86-64 (SSE2) and little-endian AArch64 the bytes are compared 16 at a time; elsewhere
// eight at a time in a 64-bit word, exactly (no borrow between bytes), or one at a time on a
// big-endian machine.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "byte_runs.hpp"

namespace hs {

namespace detail {

// Bit i set when byte i of the 64 at p is a control byte.
inline uint64_t control_mask(const char* p) noexcept {
#if defined(__SSE2__)
  // Adding 1 takes DEL to 0x80 and moves 0x00..0x1f to 0x01..0x20; then, signed, the control
  // bytes are those below 0x21, whose saturating difference with 0x21 is negative: its sign
  // bit is what movemask gathers.
  const __m128i one = _mm_set1_epi8(1), limit = _mm_set1_epi8(0x21);
  uint64_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    __m128i below = _mm_subs_epi8(_mm_add_epi8(v, one), limit);
    mask |= static_cast<uint64_t>(_mm_movemask_epi8(below)) << (16 * i);  // 16 bits
  }
  return mask;
#elif defined(__ARM_NEON) && defined(__AARCH64EL__)
  using UBytes16 = unsigned char __attribute__((vector_size(16)));
  uint64_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    // As above: plus 1, then signed below 0x21.
    Bytes16 shifted = reinterpret_cast<Bytes16>(reinterpret_cast<UBytes16>(load16(p + 16 * i)) + 1);
    mask |= uint64_t{bits16(shifted < 0x21)} << (16 * i);
  }
  return mask;
#else
  uint64_t mask = 0;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101, kLows = kOnes * 0x7f, kHighs = kOnes * 0x80;
    for (int i = 0; i < 8; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      // Each byte plus 1, without a carry into the next: its low seven bits plus 1 reach at
      // most bit 7, whose old value is then flipped in.
      uint64_t z = ((w & kLows) + kOnes) ^ (w & kHighs);
      // Signed below 0x21: the high bit set, or the low seven bits plus 0x5f below 0x80.
      uint64_t flags = (z | ~((z & kLows) + kOnes * 0x5f)) & kHighs;
      // The eight high bits gathered into the top byte (no two products overlap).
      mask |= (((flags >> 7) * 0x0102040810204080) >> 56) << (8 * i);
    }
  } else {
    for (int i = 0; i < 64; ++i) {
      auto c = static_cast<unsigned char>(p[i]);
      if (c < 0x20 || c >= 0x7f) mask |= uint64_t{1} << i;
    }
  }
  return mask;
#endif
}

}  // namespace detail

class ControlBytes {
 public:
  // The head is [from, end); every byte from `end` on counts as a control byte. Bytes up to
  // `readable` (at or after end) may be loaded, never looked at: a block that ends past `end`
  // is read in place when it can be, rather than copied.
  // Nothing is read before the first next(): a head whose lines are all found another way
  // (a short GET's Host line and blank line) costs nothing here.
  ControlBytes(const char* from, const char* end, const char* readable) noexcept
      : block_(reinterpret_cast<uintptr_t>(from) - 64), end_(end), readable_(readable) {}

  // The first control byte at or after p, or `end`. p is in [from, end] and never before a p
  // asked for earlier.
  [[gnu::always_inline]] const char* next(const char* p) noexcept {
    for (;;) {
      if (auto ahead = reinterpret_cast<uintptr_t>(p) - block_; ahead < 64) [[likely]] {
        if (uint64_t bits = mask_ >> ahead; bits != 0) [[likely]]
          return p + std::countr_zero(bits);
        p += 64 - ahead;
      }
      load(p);  // blocks start where the search is, not on a grid
    }
  }

 private:
  void load(const char* block) noexcept {
    block_ = reinterpret_cast<uintptr_t>(block);
    size_t n = block < end_ ? static_cast<size_t>(end_ - block) : 0;
    if (n >= 64) [[likely]] {
      mask_ = detail::control_mask(block);
      return;
    }
    // Set before anything is decided on them: the bits of bytes at and past `end`, which may
    // never have been written (a buffer from the pool holds only what was read into it).
    uint64_t past_end = ~uint64_t{0} << n;
    if (readable_ - block >= 64) {
      mask_ = detail::control_mask(block) | past_end;
    } else {
      char copy[64] = {};
      std::memcpy(copy, block, n);
      mask_ = detail::control_mask(copy) | past_end;
    }
  }

  uintptr_t block_;  // where the 64 bytes mask_ describes start (an integer: see the constructor)
  const char* const end_;
  const char* const readable_;
  uint64_t mask_ = 0;
};

}  // namespace hs
