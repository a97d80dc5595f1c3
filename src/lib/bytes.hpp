// Short byte strings copied and compared without a call into libc.
//
// The pieces of a request and its response are mostly a few to a few dozen bytes: a field
// name, a Date value, a Host, a request-target. For those, memcpy's and memcmp's call and size
// dispatch cost more than the work (callgrind: about 25 instructions a call where the inline
// code below takes 6 to 12). Past 32 bytes, both go to libc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace hs {

namespace detail {

template <class Word>
Word load(const char* p) noexcept {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Whether n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), are equal: two overlapping words.
template <class Word>
bool equal_ends(const char* a, const char* b, size_t n) noexcept {
  return ((load<Word>(a) ^ load<Word>(b)) |
          (load<Word>(a + n - sizeof(Word)) ^ load<Word>(b + n - sizeof(Word)))) == 0;
}

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as two overlapping words.
template <class Word>
void copy_ends(char* to, const char* from, size_t n) noexcept {
  Word head = load<Word>(from), tail = load<Word>(from + n - sizeof(Word));
  std::memcpy(to, &head, sizeof head);
  std::memcpy(to + n - sizeof tail, &tail, sizeof tail);
}

}  // namespace detail

// Whether the n bytes at a and at b are the same. Always inlined: at -O3 GCC may otherwise
// keep one out-of-line copy, and the call costs what the function saves.
[[gnu::always_inline]] inline bool equal_bytes(const char* a, const char* b, size_t n) noexcept {
  if (n >= 8) {
    if (n <= 16) return detail::equal_ends<uint64_t>(a, b, n);
    if (n <= 32)
      return detail::equal_ends<uint64_t>(a, b, 16) &&
             detail::equal_ends<uint64_t>(a + n - 16, b + n - 16, 16);
    return std::memcmp(a, b, n) == 0;
  }
  if (n >= 4) return detail::equal_ends<uint32_t>(a, b, n);
  for (size_t i = 0; i < n; ++i)  // an empty view's data() may be null
    if (a[i] != b[i]) return false;
  return true;
}

[[gnu::always_inline]] inline bool equal_bytes(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && equal_bytes(a.data(), b.data(), a.size());
}

// Copies s to `to` and returns the end of the copy.
[[gnu::always_inline]] inline char* copy_bytes(char* to, std::string_view s) noexcept {
  size_t n = s.size();
  const char* from = s.data();
  if (n > 16)
    std::memcpy(to, from, n);
  else if (n >= 8)
    detail::copy_ends<uint64_t>(to, from, n);
  else if (n >= 4)
    detail::copy_ends<uint32_t>(to, from, n);
  else
    for (size_t i = 0; i < n; ++i) to[i] = from[i];  // an empty view's data() may be null
  return to + n;
}

}  // namespace hs
