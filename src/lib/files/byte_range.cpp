#include "byte_range.hpp"

#include <algorithm>
#include <array>

#include <httpserver/http.hpp>

namespace hs::static_files {

namespace {

constexpr unsigned kMaxRangesRead = 64;  // the upper bound of max_ranges: the array below

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// A decimal number; saturates at UINT64_MAX instead of wrapping, so "99999999999999999999-"
// starts past any file rather than somewhere in it.
bool parse_pos(std::string_view text, uint64_t& value) noexcept {
  if (text.empty()) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

RangeVerdict parse_range(std::string_view field, uint64_t size, unsigned max_ranges,
                         ByteRange& out) noexcept {
  max_ranges = std::min(max_ranges, kMaxRangesRead);
  field = trim(field);
  auto eq = field.find('=');
  if (eq == std::string_view::npos || !iequals(field.substr(0, eq), "bytes")) {
    return RangeVerdict::whole;
  }
  // An empty representation has no byte to point at: any range is moot, send it whole.
  if (size == 0) return RangeVerdict::whole;
  std::array<ByteRange, kMaxRangesRead> ranges;
  unsigned count = 0;  // satisfiable ones, clipped to the representation
  unsigned seen = 0;
  std::string_view rest = field.substr(eq + 1);
  while (true) {
    auto comma = rest.find(',');
    std::string_view spec = trim(rest.substr(0, comma));
    // 1#range-spec allows empty list elements ("0-1,,2-3"); skip them, but not a list of
    // nothing at all.
    if (!spec.empty()) {
      if (++seen > max_ranges) return RangeVerdict::whole;
      auto dash = spec.find('-');
      if (dash == std::string_view::npos) return RangeVerdict::whole;
      std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
      uint64_t first, last;
      if (first_text.empty()) {  // suffix-range: the last N bytes
        if (!parse_pos(last_text, last)) return RangeVerdict::whole;
        if (last > 0) ranges[count++] = {size - std::min(last, size), std::min(last, size)};
      } else {
        if (!parse_pos(first_text, first)) return RangeVerdict::whole;
        if (last_text.empty()) {
          last = UINT64_MAX;
        } else if (!parse_pos(last_text, last) || last < first) {
          return RangeVerdict::whole;  // invalid int-range: the whole field is invalid
        }
        if (first < size) ranges[count++] = {first, std::min(last, size - 1) - first + 1};
      }
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (seen == 0) return RangeVerdict::whole;
  if (count == 0) return RangeVerdict::unsatisfiable;
  std::sort(ranges.begin(), ranges.begin() + count,
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  ByteRange merged = ranges[0];
  for (unsigned i = 1; i < count; ++i) {
    uint64_t end = merged.first + merged.length;
    if (ranges[i].first > end) return RangeVerdict::whole;  // a gap: several pieces
    merged.length = std::max(end, ranges[i].first + ranges[i].length) - merged.first;
  }
  out = merged;
  return RangeVerdict::partial;
}

}  // namespace hs::static_files
