// How the connection fuzzer reports: an invariant that does not hold aborts with a message
// (libFuzzer saves the input as a crash), and known bugs in src/ can be let through by name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fuzz {

// Prints `bytes` to stderr with CR, LF and non-printable bytes escaped (at most 600 bytes).
void print_escaped(std::string_view bytes);

// Reports "INVARIANT VIOLATION: what" (tests/ci/fuzz.sh looks for it) and the context, then
// aborts.
[[noreturn]] void violation(const std::string& what, std::string_view context = {});

inline void require(bool ok, const std::string& what, std::string_view context = {}) {
  if (!ok) violation(what, context);
}

inline bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Known bugs in src/, by name, that CONNECTION_FUZZ_KNOWN_BUGS (comma-separated; fuzz.sh sets
// it from tests/fuzz/known_bugs) lets pass, so that a long run can look for new ones. Each
// name marks the one check it relaxes (`if (known_bug("name")) { ++g_tolerated_known_bug;
// ... }` beside it). Without the variable every check is strict.
bool known_bug(std::string_view name);
extern size_t g_tolerated_known_bug;  // inputs on which a known bug's check was relaxed

bool is_tchar(char c);
bool all_digits(std::string_view s);

}  // namespace fuzz
