// Flags: the one list of the httpserver binary's flags, from which `--help`, the man page
// httpserver(1) and the flag parser's "unknown flag" check are all made.
//
// To add a flag: a row here (in the topic it belongs to), its parsing in config.cpp's
// parse_config, and a line in docs/operations.md. The docs test (tests/docs/) fails when
// `--help` prints a flag that the man page or docs/operations.md lacks, and the unit tests
// (tests/unit/config_test.cpp) when a row has no parser or its default is not the parser's.
//
// This file holds data only (no library header): the man page generator, a program built for
// the build machine, compiles it without the library.
#pragma once

#include <span>
#include <string_view>

namespace hs {

struct Flag {
  std::string_view name;      // "--port"
  std::string_view argument;  // "N", "SIZE", "D"...; empty for a switch
  std::string_view env;       // the environment variable read when the flag is absent, or empty
  // The default as a value the flag takes: passing it changes nothing (a unit test checks).
  // Empty when the default is not such a value; default_note then says what it is.
  std::string_view default_value;
  std::string_view default_note;
  std::string_view topic;        // one of flag_topics(), in that order
  std::string_view description;  // one sentence or two, plain text, no trailing period
};

// The topics, in the order --help and the man page list them.
std::span<const std::string_view> flag_topics();

// Every flag, grouped by topic.
std::span<const Flag> flags();

// The row for `name` ("--port"), or nullptr.
const Flag* find_flag(std::string_view name);

}  // namespace hs
