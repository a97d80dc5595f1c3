#include "common_head.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <string_view>

#include <httpserver/http.hpp>

#include "byte_runs.hpp"
#include "bytes.hpp"
#include "control_bytes.hpp"
#include "token.hpp"

namespace hs {

namespace {

// One table, a bit per byte class, so each byte of the head costs one load.
enum : uint8_t { kTarget = 1, kName = 2 };

constexpr std::array<uint8_t, 256> kClass = [] {
  // llhttp's STRICT_URL_CHAR (the bytes it takes in a path or query in any mode) and '?'.
  // Not '#': a fragment is not sent in a request; llhttp's reading of it is left to llhttp.
  constexpr auto target = detail::alnum_and("!\"$%&'()*+,-./:;<=>@[\\]^_`{|}~?");
  std::array<uint8_t, 256> table{};
  for (size_t c = 0; c < 256; ++c) {
    if (target[c]) table[c] |= kTarget;
    if (detail::kTchar[c]) table[c] |= kName;
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

// What a field is to this parser. Host, Connection and Content-Length: checked here.
// Declined: a chunked body, an interim response, another protocol, or llhttp's own reading of
// a field. These names have one length each.
enum class Special { none, declined, host, connection, content_length };

// The first letter, in lower case, of the special name of each length (by its low five bits).
// One load and one comparison set nearly every other field aside: a browser's Accept, Cookie,
// Referer, User-Agent and Sec-Fetch-* have the lengths of special names but not their letters.
constexpr std::array<char, 32> kSpecialInitial = [] {
  std::array<char, 32> initial{};
  for (std::string_view name : {"host", "expect", "upgrade", "connection", "content-length",
                                "proxy-connection", "transfer-encoding"})
    initial[name.size() % 32] = name[0];
  return initial;
}();

Special special(std::string_view name) noexcept {
  if (kSpecialInitial[name.size() % 32] != (name[0] | 0x20)) return Special::none;
  switch (name.size()) {
    case 4:
      return equal_folded(name, "host") ? Special::host : Special::none;
    case 6:
      return equal_folded(name, "expect") ? Special::declined : Special::none;
    case 7:
      return equal_folded(name, "upgrade") ? Special::declined : Special::none;
    case 10:
      return equal_folded(name, "connection") ? Special::connection : Special::none;
    case 14:
      return equal_folded(name, "content-length") ? Special::content_length : Special::none;
    case 16:
      return equal_folded(name, "proxy-connection") ? Special::declined : Special::none;
    case 17:  // 17 bytes: the last word starts inside the first, as 16 would
      return iequals(name, "Transfer-Encoding") ? Special::declined : Special::none;
    default:
      return Special::none;
  }
}

// A Content-Length of 1 to 15 digits (below 10^15: no overflow, and far above any body limit).
bool read_length(std::string_view text, uint64_t& length) noexcept {
  if (text.empty() || text.size() > 15) return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  length = n;
  return true;
}

// The end (CR) of the line at p when it is "Host: " and the memo's value, then CRLF.
const char* same_host_line(const char* p, const char* end, const HostMemo& memo) noexcept {
  size_t n = memo.length;
  if (n == 0 || static_cast<size_t>(end - p) < 6 + n + 2 || !equal_bytes(p, "Host: ", 6) ||
      !equal_bytes(p + 6, memo.bytes, n) || std::memcmp(p + 6 + n, "\r\n", 2) != 0)
    return nullptr;
  return p + 6 + n;
}

// Whether [value, value_end) is a valid Host value (token.hpp's valid_host()), the memo's
// value being one already checked; a new valid one becomes the memo's.
bool checked_host(const char* value, const char* value_end, HostMemo& memo) noexcept {
  auto n = static_cast<size_t>(value_end - value);
  if (n == memo.length && equal_bytes(value, memo.bytes, n)) return true;
  if (!valid_host({value, n})) return false;
  if (n != 0 && n <= sizeof memo.bytes) {
    std::memcpy(memo.bytes, value, n);
    memo.length = static_cast<uint8_t>(n);
  }
  return true;
}

// A field's spans, put together in two 64-bit words: GCC otherwise packs the four 32-bit
// offsets and lengths through vector shuffles.
HeaderSpan field_span(ptrdiff_t name, ptrdiff_t name_length, ptrdiff_t value,
                      ptrdiff_t value_length) noexcept {
  auto pair = [](ptrdiff_t offset, ptrdiff_t length) {
    auto first = static_cast<uint64_t>(static_cast<uint32_t>(offset));  // Span's first member
    auto second = static_cast<uint64_t>(static_cast<uint32_t>(length));
    return std::endian::native == std::endian::little ? first | second << 32 : first << 32 | second;
  };
  static_assert(sizeof(HeaderSpan) == 4 * sizeof(uint32_t));
  uint64_t words[2] = {pair(name, name_length), pair(value, value_length)};
  HeaderSpan span;
  std::memcpy(&span, words, sizeof span);
  return span;
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
  } else if (std::memcmp(p, "POST /", 6) == 0) {
    head.method = CommonHead::Method::post;
    p += 5;
  } else if (std::memcmp(p, "HEAD /", 6) == 0) {
    head.method = CommonHead::Method::head;
    p += 5;
  } else if (std::memcmp(p, "PUT /", 5) == 0) {
    head.method = CommonHead::Method::put;
    p += 4;
  } else {
    return false;
  }
  // GET and HEAD with a body are llhttp's (a body nobody expects, rare); POST and PUT with one
  // are the uploads of nearly every API.
  const bool takes_body =
      head.method == CommonHead::Method::post || head.method == CommonHead::Method::put;
  head.content_length = 0;
  bool has_length = false;
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

  // A name is read 16 bytes at a time while 16 bytes can be loaded; every line ends before
  // `end`, so this never decides on a byte past it.
  const char* const name_limit = base + b.capacity - 16;
  ControlBytes controls(p, end, base + b.capacity);
  int hosts = 0;
  enum class Connection { none, close, keep_alive } connection = Connection::none;
  // Host first, as nearly every client sends it, with the value it had in the last request:
  // read without a scan. Then, for a head with no other field, the blank line.
  if (const char* line_end = same_host_line(p, end, memo)) {
    b.headers.push_back(field_span(p - base, 4, p + 6 - base, line_end - (p + 6)));
    ++hosts;
    p = line_end + 2;
  }
  if (end - p >= 2 && std::memcmp(p, "\r\n", 2) == 0)
    p += 2;
  else
    for (;;) {
      // The line's end first: its first control byte but the tabs a value may hold. Every
      // byte before it is then visible ASCII, a space or a tab, so the name and the whitespace
      // around the value are read below without looking for the end of the head.
      const char* cr = controls.next(p);
      if (end - cr < 2) return decline(b);
      if (std::memcmp(cr, "\r\n", 2) != 0) [[unlikely]] {
        while (cr < end && *cr == '\t') cr = controls.next(cr + 1);
        if (end - cr < 2 || std::memcmp(cr, "\r\n", 2) != 0) return decline(b);
      }
      if (cr == p) {  // the blank line
        p += 2;
        break;
      }
      const char* colon = p;
      while (colon <= name_limit) {
        unsigned run = name_run16(colon);  // stops at cr at the latest
        colon += run;
        if (run < 16) break;
      }
      if (*colon != ':') [[unlikely]] {
        while (is(*colon, kName)) ++colon;  // stops at cr at the latest
        if (*colon != ':') return decline(b);
      }
      if (colon == p) return decline(b);
      const char* value = colon + 1;
      value += *value == ' ';  // the one space nearly every client writes
      if (*value == ' ' || *value == '\t') [[unlikely]]
        while (*value == ' ' || *value == '\t') ++value;
      const char* value_end = cr;
      if (value_end[-1] == ' ' || value_end[-1] == '\t') [[unlikely]]
        while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;

      switch (special(std::string_view(p, static_cast<size_t>(colon - p)))) {
        case Special::none:
          break;
        case Special::declined:
          return decline(b);
        case Special::content_length:
          // Digits and nothing else, once: llhttp's reading of anything more is left to it.
          if (!takes_body || has_length ||
              !read_length(std::string_view(value, static_cast<size_t>(cr - value)),
                           head.content_length))
            return decline(b);
          has_length = true;
          break;
        case Special::host:
          if (!checked_host(value, value_end, memo)) return decline(b);
          ++hosts;
          break;
        case Special::connection: {
          // One token, exactly: llhttp's reading of lists and whitespace is left to llhttp.
          std::string_view text(value, static_cast<size_t>(cr - value));  // trailing space too
          if (connection != Connection::none) return decline(b);
          if (text.size() == 5 && equal_folded(text, "close"))
            connection = Connection::close;
          else if (equal_folded(text, "keep-alive"))
            connection = Connection::keep_alive;
          else
            return decline(b);
          break;
        }
      }
      // The buffer's vector keeps its capacity in the pool: no allocation once warm.
      b.headers.push_back(field_span(p - base, colon - p, value - base, value_end - value));
      p = cr + 2;
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
