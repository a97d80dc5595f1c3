// The flag table (src/bin/flags.cpp) against the parser and the two texts made from it: a row
// the parser does not know, a default that is not the parser's, or a flag missing from --help
// or the man page would each mislead a user.
#include "flags.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "help.hpp"

namespace hs {
namespace {

// The settings a flag can change, as text, to compare two parses. A new flag's field goes
// here too, so that its default is checked.
std::string describe(const Config& c) {
  std::ostringstream o;
  const Limits& l = c.server.limits;
  o << int(c.mode) << ' ' << c.server.listen.address << ' ' << c.server.listen.port << ' '
    << c.server.listen.unix_mode << ' ' << c.server.also_listen.size() << ' ' << c.body << ' '
    << c.server.server_name << ' ' << int(c.log_format) << ' ' << c.workers << ' '
    << c.admin.has_value() << ' ' << c.drain_delay_ms << ' ' << c.server.access_log << ' '
    << c.server.echo_request_id << ' ' << c.server.max_connections << ' '
    << c.server.shutdown_timeout_ms << ' ' << l.max_header_bytes << ' ' << l.max_target_bytes << ' '
    << l.max_body_bytes << ' ' << l.max_requests_per_connection << ' ' << l.header_timeout_ms << ' '
    << l.body_timeout_ms << ' ' << l.idle_timeout_ms << ' ' << l.write_timeout_ms << ' ' << c.root
    << ' ' << c.files.index << ' ' << c.files.list_directories << ' ' << c.files.cache_control
    << ' ' << c.files.precompressed;
  return o.str();
}

// A valid value for the flags whose default is not one (default_note instead).
const std::map<std::string_view, std::string> kSamples = {
    {"--address", "127.0.0.1"},         {"--listen", "127.0.0.1:0"},
    {"--admin-address", "127.0.0.1:0"}, {"--root", "/srv/site"},
    {"--cache-control", "max-age=60"},
};

TEST(FlagTable, EveryRowIsAFlagTheParserTakes) {
  for (const Flag& f : flags()) {
    std::vector<std::string> args{std::string(f.name)};
    if (!f.argument.empty()) {
      auto sample = kSamples.find(f.name);
      args.push_back(sample != kSamples.end() ? sample->second : std::string(f.default_value));
      ASSERT_FALSE(args.back().empty()) << f.name << ": no default value and no sample here";
    }
    EXPECT_NO_THROW(parse_config(args, {})) << f.name;
  }
}

TEST(FlagTable, EveryDefaultIsWhatTheParserDoesWithoutTheFlag) {
  const std::string defaults = describe(parse_config({}, {}));
  for (const Flag& f : flags()) {
    if (f.default_value.empty()) continue;
    Config c = parse_config({std::string(f.name), std::string(f.default_value)}, {});
    EXPECT_EQ(describe(c), defaults) << f.name << " " << f.default_value;
  }
}

TEST(FlagTable, EveryRowHasATopicOfTheListAndADescription) {
  for (const Flag& f : flags()) {
    bool known = false;
    for (std::string_view t : flag_topics()) known |= t == f.topic;
    EXPECT_TRUE(known) << f.name << ": topic '" << f.topic << "'";
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_EQ(find_flag(f.name), &f);
  }
  EXPECT_EQ(find_flag("--no-such-flag"), nullptr);
}

TEST(FlagTable, AFlagOutsideTheTableIsUnknown) {
  try {
    parse_config({"--no-such-flag"}, {});
    FAIL() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "unknown flag --no-such-flag");
  }
}

TEST(Help, ListsEveryFlagUnderItsTopicWithDefaultAndEnvironment) {
  const std::string help = usage();
  size_t topic_at = 0;
  for (std::string_view topic : flag_topics()) {
    size_t at = help.find("\n" + std::string(topic) + ":\n");
    ASSERT_NE(at, std::string::npos) << topic;
    EXPECT_GT(at, topic_at) << topic << " out of order";
    topic_at = at;
  }
  for (const Flag& f : flags()) {
    size_t at = help.find("  " + std::string(f.name) + (f.argument.empty() ? "" : " "));
    ASSERT_NE(at, std::string::npos) << f.name;
    // Under its own topic: the last topic heading before it.
    size_t heading = help.rfind(":\n", at);
    size_t line = help.rfind('\n', heading - 1);
    EXPECT_EQ(help.substr(line + 1, heading - line - 1), f.topic) << f.name;
    size_t end = help.find("\n  --", at + 1);
    std::string entry = help.substr(at, end - at);
    if (!f.env.empty()) {
      EXPECT_NE(entry.find("[" + std::string(f.env) + "]"), std::string::npos) << entry;
    }
    if (!f.default_value.empty()) {
      std::string value(f.default_value);
      if (value.find(' ') != std::string::npos) value = '"' + value + '"';
      EXPECT_NE(entry.find("(default " + value + ")"), std::string::npos) << entry;
    }
  }
}

TEST(Help, FitsInEightyColumns) {
  std::istringstream lines(usage());
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 80u) << line;
}

TEST(ManPage, HasEverySectionAndEveryFlagWithItsEnvironmentVariable) {
  const std::string page = man_page("1.2.3");
  EXPECT_EQ(page.find(".TH HTTPSERVER 1 "), page.find('\n') + 1);
  EXPECT_NE(page.find("\"httpserver 1.2.3\""), std::string::npos);
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT",
                              "SIGNALS", "EXIT STATUS", "FILES", "EXAMPLES"})
    EXPECT_NE(page.find(std::string(".SH ") + section + "\n"), std::string::npos) << section;
  for (const Flag& f : flags()) {
    std::string roff_name;
    for (char c : f.name) roff_name += c == '-' ? "\\-" : std::string(1, c);
    size_t at = page.find(".B " + roff_name);
    ASSERT_NE(at, std::string::npos) << f.name;
    if (!f.env.empty()) {
      size_t next = page.find(".TP", at);
      EXPECT_NE(page.substr(at, next - at).find("Environment: \\fB" + std::string(f.env)),
                std::string::npos)
          << f.name;
    }
  }
}

TEST(ManPage, NoLineStartsWithAControlCharacterByAccident) {
  std::istringstream lines(man_page("1"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || (line[0] != '.' && line[0] != '\'')) continue;
    // Every request line is a macro we meant: .TH .SH .SS .TP .B .BR .RI .PP .RS .RE .nf .fi .br
    std::string macro = line.substr(
        1, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 1);
    static const char* kMacros[] = {"TH", "SH", "SS", "TP", "B",  "BR", "RI",  "PP",
                                    "RS", "RE", "nf", "fi", "br", "I",  "\\\""};
    bool known = false;
    for (const char* m : kMacros) known |= macro == m;
    EXPECT_TRUE(known) << line;
  }
}

}  // namespace
}  // namespace hs
