// Character classes of HTTP's grammar (RFC 9110 section 5.6), as lookup tables: the request
// head and the chunked framing are checked byte by byte, so one load per byte.
#pragma once

#include <array>
#include <string_view>

namespace hs {

namespace detail {
// Letters, digits and `others`.
constexpr std::array<bool, 256> alnum_and(std::string_view others) noexcept {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
  for (char c : others) table[static_cast<unsigned char>(c)] = true;
  return table;
}
inline constexpr std::array<bool, 256> kTchar = alnum_and("!#$%&'*+-.^_`|~");
inline constexpr std::array<bool, 256> kHostChar = alnum_and("-._~!$&'()*+,;=:%[]");
}  // namespace detail

// tchar: the bytes of a token (a method, a field name, a chunk extension's name).
constexpr bool is_tchar(char c) noexcept { return detail::kTchar[static_cast<unsigned char>(c)]; }

// A field value's bytes (field-vchar, SP, HTAB): anything but the control bytes and DEL.
constexpr bool is_field_byte(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u != 0x7f) || u == '\t';
}

// The value of a hexadecimal digit (a chunk size, a percent-escape), or -1.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A Host value's bytes (RFC 9110 section 7.2, RFC 3986 section 3.2.2): reg-name, IP-literal or
// IPv4address, then ":port". Checked per byte, not parsed: an empty value is valid.
constexpr bool valid_host(std::string_view host) noexcept {
  for (char c : host)
    if (!detail::kHostChar[static_cast<unsigned char>(c)]) return false;
  return true;
}

}  // namespace hs
