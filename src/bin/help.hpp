// Help: the two texts made from the flag table (flags.hpp), `--help` and the man page
// httpserver(1), so that they cannot disagree with each other or with the parser.
//
// Data only, as flags.hpp: the man page generator (man_page_main.cpp) builds it for the build
// machine without the library.
#pragma once

#include <string>
#include <string_view>

namespace hs {

// The --help text: synopsis, flags grouped by topic, each with its default and environment
// variable, and the value formats. Lines fit in 80 columns.
std::string usage();

// httpserver(1) in roff (man(7) macros): name, synopsis, description, the flags by topic with
// their defaults and environment variables, environment, signals, exit status, files,
// examples. `version` goes in the page's footer.
std::string man_page(std::string_view version);

// The flags as Markdown tables, one per topic (flag, environment variable, default, meaning),
// for docs/operations.md (the docs test checks that the guide holds exactly this).
std::string flags_markdown();

}  // namespace hs
