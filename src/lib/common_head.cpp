#include "common_head.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <string_view>

#include <httpserver/http.hpp>

#include "byte_runs.hpp"
#include "bytes.hpp"
#include "token.hpp"

namespace hs {

namespace {

// One table, a bit per byte class, so each byte of the head costs one load.
enum : uint8_t { kTarget = 1, kName = 2, kValue = 4, kHost = 8 };

constexpr std::array<uint8_t, 256> kClass = [] {
  // llhttp's STRICT_URL_CHAR (the bytes it takes in a path or query in any mode) and '?'.
  // Not '#': a fragment is not sent in a request; llhttp's reading of it is left to llhttp.
  constexpr auto target = detail::alnum_and("!\"$%&'()*+,-./:;<=>@[\\]^_`{|}~?");
  std::array<uint8_t, 256> table{};
  for (size_t c = 0; c < 256; ++c) {
    if (target[c]) table[c] |= kTarget;
    if (detail::kTchar[c]) table[c] |= kName;
    if ((c >= 0x20 && c < 0x7f) || c == '\t') table[c] |= kValue;
    if (detail::kHostChar[c]) table[c] |= kHost;
  }
  return table;
}();

bool is(char c, uint8_t cls) noexcept { return (kClass[static_cast<unsigned char>(c)] & cls) != 0; }

// Whether the n bytes at p (4 <= n <= 16) are `lower` in any letter case, where `lower` is
// lower-case letters and '-', and p's bytes are tchar or field-value bytes. Folding with
// OR 0x20 is then exact: only a letter becomes a letter, and only '-' or CR becomes '-' (a CR
// is neither). Two overlapping words per side, as equal_bytes() compares.
template <class Word>
bool equal_folded_ends(const char* p, const char* lower, size_t n) noexcept {
  Word fold;
  std::memset(&fold, 0x20, sizeof fold);
  return (((detail::load<Word>(p) | fold) ^ detail::load<Word>(lower)) |
          ((detail::load<Word>(p + n - sizeof(Word)) | fold) ^
           detail::load<Word>(lower + n - sizeof(Word)))) == 0;
}

bool equal_folded(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  return s.size() >= 8 ? equal_folded_ends<uint64_t>(s.data(), lower.data(), s.size())
                       : equal_folded_ends<uint32_t>(s.data(), lower.data(), s.size());
}

// What a field is to this parser. Declined: a body, an interim response, another protocol,
// or llhttp's own reading of a field. Told apart by length first: most fields have none of
// these lengths, and these names have one length each.
enum class Special { none, declined, connection };
Special special(std::string_view name) noexcept {
  switch (name.size()) {
    case 6:
      return equal_folded(name, "expect") ? Special::declined : Special::none;
    case 7:
      return equal_folded(name, "upgrade") ? Special::declined : Special::none;
    case 10:
      return equal_folded(name, "connection") ? Special::connection : Special::none;
    case 14:
      return equal_folded(name, "content-length") ? Special::declined : Special::none;
    case 16:
      return equal_folded(name, "proxy-connection") ? Special::declined : Special::none;
    case 17:  // 17 bytes: the last word starts inside the first, as 16 would
      return iequals(name, "Transfer-Encoding") ? Special::declined : Special::none;
    default:
      return Special::none;
  }
}

// Skips the run of host bytes at p, as far as `end`.
const char* skip_host(const char* p, const char* end, HostMemo& memo) noexcept {
  size_t n = memo.length;
  if (n != 0 && static_cast<size_t>(end - p) > n && equal_bytes(p, memo.bytes, n) &&
      !is(p[n], kHost))
    return p + n;
  const char* start = p;
  while (p < end && is(*p, kHost)) ++p;
  if (size_t length = static_cast<size_t>(p - start); length != 0 && length <= sizeof memo.bytes) {
    std::memcpy(memo.bytes, start, length);
    memo.length = static_cast<uint8_t>(length);
  }
  return p;
}

bool decline(ReadBuffer& b) noexcept {
  b.reset_request();
  return false;
}

}  // namespace

bool parse_common_head(ReadBuffer& b, size_t max_bytes, HostMemo& memo, CommonHead& head) noexcept {
  const char* const base = b.data.get();
  const char* const start = base + b.parsed;
  size_t available = b.length - b.parsed;
  // Nothing past max_bytes is looked at: a head that does not end before it is not common.
  const char* const end = start + (available < max_bytes ? available : max_bytes);
  const char* p = start;

  // The request line. 18 bytes is the shortest common head: "GET / HTTP/1.1\r\n\r\n".
  if (end - p < 18) return false;
  if (std::memcmp(p, "GET /", 5) == 0) {
    head.method = CommonHead::Method::get;
    p += 4;
  } else if (std::memcmp(p, "HEAD /", 6) == 0) {
    head.method = CommonHead::Method::head;
    p += 5;
  } else {
    return false;
  }
  const char* target = p;
  p = skip_target_run(p, end);
  while (p < end && is(*p, kTarget)) ++p;
  // " HTTP/1.x" CRLF, then at least the blank line's CRLF.
  if (end - p < 13 || std::memcmp(p, " HTTP/1.", 8) != 0 || (p[8] != '0' && p[8] != '1') ||
      p[9] != '\r' || p[10] != '\n')
    return false;
  head.minor = static_cast<uint8_t>(p[8] - '0');
  b.reset_request();
  b.head_start = static_cast<uint32_t>(b.parsed);
  b.method = Span{static_cast<uint32_t>(b.parsed), static_cast<uint32_t>(target - 1 - start)};
  b.target = Span{static_cast<uint32_t>(target - base), static_cast<uint32_t>(p - target)};
  p += 11;

  int hosts = 0;
  enum class Connection { none, close, keep_alive } connection = Connection::none;
  for (;;) {
    if (end - p < 2) return decline(b);
    if (p[0] == '\r') {
      if (p[1] != '\n') return decline(b);
      p += 2;
      break;
    }
    const char* name = p;
    bool is_host;
    std::string_view field;
    if (end - p >= 6 && equal_bytes(p, "Host: ", 6)) {
      // As nearly every client writes it: name, colon and space in one comparison.
      is_host = true;
      field = {name, 4};
      p += 6;
    } else {
      p = skip_name_run(p, end);
      if (p < end && *p != ':')
        while (p < end && is(*p, kName)) ++p;
      if (p == name || p == end || *p != ':') return decline(b);
      field = {name, static_cast<size_t>(p - name)};
      is_host = field.size() == 4 && equal_folded(field, "host");
      ++p;
    }
    p += p < end && *p == ' ';  // the one space nearly every client writes
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    const char* value = p;
    const char* value_end;
    if (is_host) {
      // Checked as it is read: host bytes, then nothing but whitespace.
      p = value_end = skip_host(p, end, memo);
      while (p < end && (*p == ' ' || *p == '\t')) ++p;
      ++hosts;
    } else {
      p = skip_value_run(p, end);
      if (p == end || *p != '\r')
        while (p < end && is(*p, kValue)) ++p;
      value_end = p;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
    }
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return decline(b);
    std::string_view text(value, static_cast<size_t>(p - value));  // trailing whitespace too
    p += 2;

    if (Special kind = special(field); kind == Special::declined) {
      return decline(b);
    } else if (kind == Special::connection) {
      // One token, exactly: llhttp's reading of lists and whitespace is left to llhttp.
      if (connection != Connection::none) return decline(b);
      if (text.size() == 5 && equal_folded(text, "close"))
        connection = Connection::close;
      else if (equal_folded(text, "keep-alive"))
        connection = Connection::keep_alive;
      else
        return decline(b);
    }
    HeaderSpan span;
    span.name = Span{static_cast<uint32_t>(name - base), static_cast<uint32_t>(field.size())};
    span.value =
        Span{static_cast<uint32_t>(value - base), static_cast<uint32_t>(value_end - value)};
    b.headers.push_back(span);  // capacity kept by the pooled buffer: no allocation when warm
  }
  // Each field counts its name, value and 4 bytes of framing toward the header limit: at most
  // one byte more than its line.
  if (static_cast<size_t>(p - start) + b.headers.size() > max_bytes) return decline(b);
  // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in 1.0, a valid value.
  if (hosts > 1 || (hosts == 0 && head.minor == 1)) return decline(b);
  head.keep_alive =
      head.minor == 1 ? connection != Connection::close : connection == Connection::keep_alive;
  b.head_end = static_cast<uint32_t>(p - base);
  b.body = Span{b.head_end, 0};
  return true;
}

}  // namespace hs
