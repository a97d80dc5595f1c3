// httpserver-man: prints the man page httpserver(1) made from the flag table, for Meson to
// install, or the flag tables of docs/operations.md. Built for the build machine, so that a
// cross build makes its page too.
//
//   httpserver-man VERSION > httpserver.1
//   httpserver-man --markdown
#include <cstdio>
#include <string_view>

#include "help.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: httpserver-man VERSION | httpserver-man --markdown\n", stderr);
    return 2;
  }
  std::string_view what = argv[1];
  std::fputs((what == "--markdown" ? hs::flags_markdown() : hs::man_page(what)).c_str(), stdout);
  return 0;
}
