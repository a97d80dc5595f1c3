#include "validators.hpp"

#include <cstring>

namespace hs::static_files {

namespace {

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

int month_index(std::string_view name) noexcept {
  // One literal, not an array of views: no pointers, so nothing to relocate into writable data.
  constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int i = 0; i < 12; ++i)
    if (name == kMonths.substr(static_cast<size_t>(i) * 3, 3)) return i;
  return -1;
}

bool digits(std::string_view s, int& value) noexcept {
  if (s.empty()) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
// timegm() would do, but it is a GNU extension and reads TZ data on some libcs.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "HH:MM:SS"
bool parse_clock(std::string_view s, int& h, int& m, int& sec) noexcept {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && digits(s.substr(0, 2), h) &&
         digits(s.substr(3, 2), m) && digits(s.substr(6, 2), sec) && h < 24 && m < 60 && sec <= 60;
}

bool make_time(int year, int month, int day, int h, int m, int s, std::time_t& out) noexcept {
  if (month < 0 || day < 1 || day > 31) return false;
  int64_t days =
      days_from_civil(year, static_cast<unsigned>(month + 1), static_cast<unsigned>(day));
  out = static_cast<std::time_t>(days * 86400 + h * 3600 + m * 60 + s);
  return true;
}

// The next entity tag of a list at `s`: W/ prefix (optional) and a quoted opaque-tag.
bool next_tag(std::string_view& s, std::string_view& tag, bool& weak) noexcept {
  weak = s.size() >= 2 && s[0] == 'W' && s[1] == '/';
  size_t start = weak ? 2 : 0;
  if (start >= s.size() || s[start] != '"') return false;
  size_t close = s.find('"', start + 1);
  if (close == std::string_view::npos) return false;
  tag = s.substr(start, close - start + 1);
  s.remove_prefix(close + 1);
  return true;
}

}  // namespace

size_t format_etag(uint64_t size, std::time_t mtime, char* out) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [&](uint64_t v, char* p) {
    char tmp[16];
    size_t n = 0;
    do {
      tmp[n++] = kHex[v & 15];
      v >>= 4;
    } while (v != 0);
    for (size_t i = 0; i < n; ++i) p[i] = tmp[n - 1 - i];
    return n;
  };
  size_t n = 0;
  out[n++] = '"';
  n += hex(static_cast<uint64_t>(mtime), out + n);
  out[n++] = '-';
  n += hex(size, out + n);
  out[n++] = '"';
  return n;
}

bool parse_http_date(std::string_view t, std::time_t& out) noexcept {
  int day, year, h, m, s;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (t.size() == 29 && t[3] == ',' && t[4] == ' ' && t[7] == ' ' && t[11] == ' ' && t[16] == ' ' &&
      t.substr(25) == " GMT") {
    return digits(t.substr(5, 2), day) && digits(t.substr(12, 4), year) &&
           parse_clock(t.substr(17, 8), h, m, s) &&
           make_time(year, month_index(t.substr(8, 3)), day, h, m, s, out);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (t.size() == 24 && t[3] == ' ' && t[7] == ' ' && t[10] == ' ' && t[19] == ' ') {
    std::string_view d = t.substr(8, 2);
    if (d[0] == ' ') d.remove_prefix(1);
    return digits(d, day) && digits(t.substr(20, 4), year) &&
           parse_clock(t.substr(11, 8), h, m, s) &&
           make_time(year, month_index(t.substr(4, 3)), day, h, m, s, out);
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year that looks more than 50
  // years in the future is in the past (RFC 9110 section 5.6.7).
  auto comma = t.find(", ");
  if (comma != std::string_view::npos && t.size() == comma + 24 &&
      t.substr(t.size() - 4) == " GMT") {
    std::string_view rest = t.substr(comma + 2);  // "06-Nov-94 08:49:37 GMT"
    if (rest[2] != '-' || rest[6] != '-' || rest[9] != ' ') return false;
    if (!digits(rest.substr(0, 2), day) || !digits(rest.substr(7, 2), year)) return false;
    std::tm now;
    std::time_t clock = std::time(nullptr);
    ::gmtime_r(&clock, &now);
    int century = (now.tm_year + 1900) / 100 * 100;
    year += century;
    if (year > now.tm_year + 1900 + 50) year -= 100;
    return parse_clock(rest.substr(10, 8), h, m, s) &&
           make_time(year, month_index(rest.substr(3, 3)), day, h, m, s, out);
  }
  return false;
}

bool etag_list_matches(std::string_view field, std::string_view etag, bool weak) noexcept {
  while (!field.empty() && is_ows(field.front())) field.remove_prefix(1);
  while (!field.empty() && is_ows(field.back())) field.remove_suffix(1);
  if (field == "*") return true;
  while (!field.empty()) {
    if (field.front() == ',' || is_ows(field.front())) {
      field.remove_prefix(1);
      continue;
    }
    std::string_view tag;
    bool tag_weak;
    if (!next_tag(field, tag, tag_weak)) return false;
    if ((weak || !tag_weak) && tag == etag) return true;
  }
  return false;
}

int evaluate_preconditions(const Request& request, const Validators& current) noexcept {
  std::time_t since;
  if (std::string_view f = request.header("If-Match"); !f.empty()) {
    if (!etag_list_matches(f, current.etag, false)) return 412;
  } else if (std::string_view u = request.header("If-Unmodified-Since");
             !u.empty() && parse_http_date(u, since) && current.last_modified > since) {
    return 412;
  }
  if (request.has_header("If-None-Match")) {
    // Takes precedence: If-Modified-Since is not even read (section 13.1.3).
    return etag_list_matches(request.header("If-None-Match"), current.etag, true) ? 304 : 0;
  }
  if (std::string_view ims = request.header("If-Modified-Since");
      !ims.empty() && parse_http_date(ims, since) && current.last_modified <= since) {
    return 304;
  }
  return 0;
}

bool if_range_holds(const Request& request, const Validators& current) noexcept {
  std::string_view field = request.header("If-Range");
  if (field.empty()) return true;
  if (field.front() == '"' || field.substr(0, 2) == "W/") {
    // A weak tag never validates a range: the bytes could differ (section 13.1.5).
    return field.front() == '"' && field == current.etag;
  }
  std::time_t date;
  return parse_http_date(field, date) && date == current.last_modified;
}

}  // namespace hs::static_files
