#include "url_path.hpp"

#include "../token.hpp"

namespace hs::static_files {

PathVerdict decode_path(std::string_view path, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < path.size() && path[i] == '/') ++i;  // leading slashes: the root
  size_t segment_start = 0;                       // in out
  // Ends the segment that began at segment_start: ".." is refused after decoding, so every
  // spelling of it is caught in one place.
  auto end_segment = [&]() {
    std::string_view segment(out.data() + segment_start, out.size() - segment_start);
    return segment != "..";
  };
  for (; i < path.size(); ++i) {
    char c = path[i];
    if (c == '/') {
      if (!end_segment()) return PathVerdict::forbidden;
      out.push_back('/');
      segment_start = out.size();
      continue;
    }
    if (c == '%') {
      if (i + 2 >= path.size()) return PathVerdict::bad_escape;
      int hi = hex_digit_value(path[i + 1]), lo = hex_digit_value(path[i + 2]);
      if (hi < 0 || lo < 0) return PathVerdict::bad_escape;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      // An encoded '/' would join two names into one segment the client meant as one.
      if (c == '/') return PathVerdict::forbidden;
    }
    if (c == '\0' || c == '\\') return PathVerdict::forbidden;
    out.push_back(c);
  }
  if (!end_segment()) return PathVerdict::forbidden;
  return PathVerdict::ok;
}

void append_encoded_segment(std::string& out, std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                 u == '-' || u == '.' || u == '_' || u == '~';
    if (plain) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
}

}  // namespace hs::static_files
