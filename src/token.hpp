// Character classes of HTTP's grammar (RFC 9110 section 5.6), as lookup tables: the request
// head and the chunked framing are checked byte by byte, so one load per byte.
#pragma once

#include <array>
#include <string_view>

namespace hs {

namespace detail {
constexpr std::array<bool, 256> make_tchar_table() noexcept {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
inline constexpr std::array<bool, 256> kTchar = make_tchar_table();
}  // namespace detail

// tchar: the bytes of a token (a method, a field name, a chunk extension's name).
constexpr bool is_tchar(char c) noexcept { return detail::kTchar[static_cast<unsigned char>(c)]; }

// A field value's bytes (field-vchar, SP, HTAB): anything but the control bytes and DEL.
constexpr bool is_field_byte(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u != 0x7f) || u == '\t';
}

}  // namespace hs
