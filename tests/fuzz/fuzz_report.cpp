#include "fuzz_report.hpp"

#include <cstdio>
#include <cstdlib>

namespace fuzz {

size_t g_tolerated_known_bug = 0;

void print_escaped(std::string_view bytes) {
  constexpr size_t kMax = 600;
  for (size_t i = 0; i < bytes.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r')
      std::fputs("\\r", stderr);
    else if (c == '\n')
      std::fputs("\\n\n", stderr);
    else if (c < 0x20 || c >= 0x7f || c == '\\')
      std::fprintf(stderr, "\\x%02x", c);
    else
      std::fputc(c, stderr);
  }
  if (bytes.size() > kMax) std::fprintf(stderr, "... (%zu bytes)", bytes.size());
  std::fputc('\n', stderr);
}

void violation(const std::string& what, std::string_view context) {
  std::fprintf(stderr, "\nINVARIANT VIOLATION: %s\n", what.c_str());
  if (!context.empty()) {
    std::fputs("--- context ---\n", stderr);
    print_escaped(context);
  }
  std::abort();
}

bool known_bug(std::string_view name) {
  static const std::string list = [] {
    const char* v = std::getenv("CONNECTION_FUZZ_KNOWN_BUGS");
    return "," + std::string(v ? v : "") + ",";
  }();
  return contains(list, "," + std::string(name) + ",");
}

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace fuzz
