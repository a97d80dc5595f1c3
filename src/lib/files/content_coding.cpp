#include "content_coding.hpp"

#include <algorithm>

#include <httpserver/http.hpp>

namespace hs::static_files {

namespace {

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); anything else: -1.
int parse_qvalue(std::string_view q) noexcept {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return -1;
  int value = (q[0] - '0') * 1000;
  if (q.size() == 1) return value;
  if (q[1] != '.' || q.size() > 5) return -1;
  int scale = 100;
  for (char c : q.substr(2)) {
    if (c < '0' || c > '9') return -1;
    value += (c - '0') * scale;
    scale /= 10;
  }
  return value > 1000 ? -1 : value;
}

}  // namespace

unsigned coding_quality(std::string_view field, std::string_view name) noexcept {
  int own = -1, star = -1;
  while (!field.empty()) {
    auto comma = field.find(',');
    std::string_view element = field.substr(0, comma);
    field = comma == std::string_view::npos ? std::string_view() : field.substr(comma + 1);
    auto semi = element.find(';');
    std::string_view coding = trim(element.substr(0, semi));
    if (coding.empty()) continue;
    int q = 1000;
    if (semi != std::string_view::npos) {
      std::string_view params = element.substr(semi + 1);
      // Only q is defined; "q=0.5" with optional whitespace around '='.
      auto eq = params.find('=');
      if (eq == std::string_view::npos || !iequals(trim(params.substr(0, eq)), "q")) continue;
      q = parse_qvalue(trim(params.substr(eq + 1)));
      if (q < 0) continue;  // a malformed element says nothing
    }
    if (iequals(coding, name) || (name == "gzip" && iequals(coding, "x-gzip"))) {
      own = own < 0 ? q : std::max(own, q);
    } else if (coding == "*") {
      star = q;
    }
  }
  if (own >= 0) return static_cast<unsigned>(own);
  return star >= 0 ? static_cast<unsigned>(star) : 0;
}

size_t preferred_codings(std::string_view accept_encoding, Coding (&out)[2]) noexcept {
  unsigned br = coding_quality(accept_encoding, "br");
  unsigned gzip = coding_quality(accept_encoding, "gzip");
  size_t n = 0;
  if (br > 0 && br >= gzip) out[n++] = Coding::br;
  if (gzip > 0) out[n++] = Coding::gzip;
  if (br > 0 && br < gzip) out[n++] = Coding::br;
  return n;
}

}  // namespace hs::static_files
