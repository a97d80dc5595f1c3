#include "config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include <httpserver/version.hpp>

#include "help.hpp"

namespace hs {
namespace {

using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

Config parse(const Args& args, const Env& env = {}) { return parse_config(args, env); }

// The message of the UsageError that parsing `args` throws, or "" when it does not throw.
std::string usage_error(const Args& args, const Env& env = {}) {
  try {
    parse_config(args, env);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_USAGE_ERROR_NAMING(args, name)                                   \
  do {                                                                          \
    std::string message = usage_error args;                                     \
    EXPECT_NE(message, "") << "no UsageError";                                  \
    EXPECT_NE(message.find(name), std::string::npos) << "message: " << message; \
  } while (0)

TEST(Config, HasTheDocumentedDefaults) {
  Config c = parse({});
  EXPECT_EQ(c.mode, Config::Mode::serve);
  EXPECT_EQ(c.server.listen.port, 8080);
  EXPECT_EQ(c.server.listen.address, "");
  EXPECT_EQ(c.body, "package main #14");
  EXPECT_EQ(c.server.server_name, "httpserver");
  EXPECT_EQ(c.log_format, LogFormat::text);
  EXPECT_EQ(c.workers, 1u);
  EXPECT_EQ(c.server.limits.max_header_bytes, 8u * 1024);
  EXPECT_EQ(c.server.limits.max_target_bytes, 8u * 1024);
  EXPECT_EQ(c.server.limits.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(c.server.limits.header_timeout_ms, 10'000u);
  EXPECT_EQ(c.server.limits.idle_timeout_ms, 60'000u);
  EXPECT_EQ(c.server.limits.write_timeout_ms, 30'000u);
  EXPECT_EQ(c.server.limits.body_timeout_ms, 30'000u);
  EXPECT_EQ(c.server.limits.max_requests_per_connection, 0u);
  EXPECT_EQ(c.server.shutdown_timeout_ms, 10'000u);
  EXPECT_EQ(c.server.max_connections, 10'000u);
}

TEST(Config, TakesAFlagValueAsTheNextArgumentOrAfterAnEqualsSign) {
  EXPECT_EQ(parse({"--port", "9000"}).server.listen.port, 9000);
  EXPECT_EQ(parse({"--port=9000"}).server.listen.port, 9000);
  EXPECT_EQ(parse({"--body", "hi there"}).body, "hi there");
  EXPECT_EQ(parse({"--body=a=b"}).body, "a=b");  // only the first '=' splits
  EXPECT_EQ(parse({"--body="}).body, "");
  EXPECT_EQ(parse({"--address", "::1"}).server.listen.address, "::1");
}

TEST(Config, SetsOrDropsTheServerFieldAndRefusesBytesThatWouldBreakTheHead) {
  EXPECT_EQ(parse({"--server-name", "edge/1.2 (x)"}).server.server_name, "edge/1.2 (x)");
  EXPECT_EQ(parse({"--server-name="}).server.server_name, "");
  for (const char* bad :
       {"a\r\nSet-Cookie: x=1", "a\nb", "tab\there", "del\x7f", " lead", "trail "})
    EXPECT_USAGE_ERROR_NAMING(({"--server-name", bad}), "--server-name");
}

TEST(Config, ReadsPortFromTheEnvironmentAndTheFlagWins) {
  EXPECT_EQ(parse({}, {{"PORT", "7000"}}).server.listen.port, 7000);
  EXPECT_EQ(parse({"--port", "9000"}, {{"PORT", "7000"}}).server.listen.port, 9000);
  EXPECT_EQ(parse({"--port=9001"}, {{"PORT", "7000"}}).server.listen.port, 9001);
  EXPECT_EQ(parse({}, {{"PORT", ""}}).server.listen.port, 8080);  // empty is unset
  EXPECT_EQ(parse({}, {{"HTTP_PORT", "1"}}).server.listen.port, 8080);
}

TEST(Config, ReadsLogFormatAndWorkersFromTheEnvironmentAndFlagsWin) {
  EXPECT_EQ(parse({}, {{"LOG_FORMAT", "json"}}).log_format, LogFormat::json);
  EXPECT_EQ(parse({"--log-format", "none"}, {{"LOG_FORMAT", "json"}}).log_format, LogFormat::none);
  EXPECT_EQ(parse({}, {{"WORKERS", "4"}}).workers, 4u);
  EXPECT_EQ(parse({"--workers", "2"}, {{"WORKERS", "4"}}).workers, 2u);
}

TEST(Config, RejectsBadEnvironmentValuesNamingTheVariable) {
  EXPECT_USAGE_ERROR_NAMING(({}, {{"PORT", "http"}}), "PORT");
  EXPECT_USAGE_ERROR_NAMING(({}, {{"PORT", "65536"}}), "PORT");
  EXPECT_USAGE_ERROR_NAMING(({}, {{"LOG_FORMAT", "xml"}}), "LOG_FORMAT");
  EXPECT_USAGE_ERROR_NAMING(({}, {{"WORKERS", "0"}}), "WORKERS");
  EXPECT_USAGE_ERROR_NAMING(({}, {{"WORKERS", "many"}}), "WORKERS");
}

TEST(Config, ParsesSizesWithOptionalUnits) {
  EXPECT_EQ(parse_size("100"), 100u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("8KiB"), 8192u);
  EXPECT_EQ(parse_size("1MiB"), 1048576u);
  EXPECT_EQ(parse_size("512k"), 524288u);
  EXPECT_EQ(parse_size("2m"), 2u * 1024 * 1024);
  EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size("64B"), 64u);
}

TEST(Config, RejectsMalformedSizes) {
  for (std::string bad : {"", "abc", "KiB", "8 KiB", "8XiB", "-1", "1.5MiB", "99999999999999999999",
                          "99999999999999999GiB"}) {
    EXPECT_THROW(parse_size(bad), UsageError) << "'" << bad << "'";
  }
}

TEST(Config, ParsesDurationsInMillisecondsWithSecondsAsTheDefaultUnit) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500u);
  EXPECT_EQ(parse_duration_ms("10s"), 10'000u);
  EXPECT_EQ(parse_duration_ms("2m"), 120'000u);
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000u);
  EXPECT_EQ(parse_duration_ms("3"), 3'000u);
  EXPECT_EQ(parse_duration_ms("0"), 0u);
}

TEST(Config, RejectsMalformedDurations) {
  for (std::string bad : {"", "s", "5d", "5 s", "-3", "1.5s", "10sec", "99999999999999999999h"}) {
    EXPECT_THROW(parse_duration_ms(bad), UsageError) << "'" << bad << "'";
  }
}

TEST(Config, AppliesSizeAndDurationFlags) {
  Config c = parse({"--max-header-bytes", "16KiB", "--max-target-bytes=1k", "--max-body-bytes",
                    "2MiB", "--header-timeout", "500ms", "--idle-timeout=2m", "--write-timeout",
                    "5", "--shutdown-timeout", "1s", "--max-connections", "42"});
  EXPECT_EQ(c.server.limits.max_header_bytes, 16384u);
  EXPECT_EQ(c.server.limits.max_target_bytes, 1024u);
  EXPECT_EQ(c.server.limits.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(c.server.limits.header_timeout_ms, 500u);
  EXPECT_EQ(c.server.limits.idle_timeout_ms, 120'000u);
  EXPECT_EQ(c.server.limits.write_timeout_ms, 5'000u);
  EXPECT_EQ(c.server.shutdown_timeout_ms, 1'000u);
  EXPECT_EQ(c.server.max_connections, 42u);
}

TEST(Config, AppliesTheBodyTimeoutAndMaxRequestsPerConnection) {
  Config c = parse({"--body-timeout", "1500ms", "--max-requests-per-connection=100"});
  EXPECT_EQ(c.server.limits.body_timeout_ms, 1'500u);
  EXPECT_EQ(c.server.limits.max_requests_per_connection, 100u);
  EXPECT_EQ(parse({"--body-timeout=2m"}).server.limits.body_timeout_ms, 120'000u);
  EXPECT_EQ(parse({"--body-timeout", "7"}).server.limits.body_timeout_ms, 7'000u);
  EXPECT_EQ(parse({"--max-requests-per-connection", "0"}).server.limits.max_requests_per_connection,
            0u);
}

TEST(Config, RejectsBadBodyTimeoutsAndRequestCountsNamingTheFlag) {
  EXPECT_USAGE_ERROR_NAMING(({"--body-timeout", "5d"}), "--body-timeout");
  EXPECT_USAGE_ERROR_NAMING(({"--body-timeout", "5d"}), "unknown duration unit");
  EXPECT_USAGE_ERROR_NAMING(({"--body-timeout", "0"}), "at least 1ms");
  EXPECT_USAGE_ERROR_NAMING(({"--body-timeout", "-1s"}), "--body-timeout");
  EXPECT_USAGE_ERROR_NAMING(({"--body-timeout"}), "needs a value");
  EXPECT_USAGE_ERROR_NAMING(({"--max-requests-per-connection", "-1"}),
                            "--max-requests-per-connection");
  EXPECT_USAGE_ERROR_NAMING(({"--max-requests-per-connection", "ten"}), "'ten'");
  EXPECT_USAGE_ERROR_NAMING(({"--max-requests-per-connection", "5000000000"}), "between 0 and");
  EXPECT_USAGE_ERROR_NAMING(({"--max-requests-per-connection=1.5"}), "whole number");
}

TEST(Config, TurnsOnTheAccessLogAndRequestIdsOnlyWhenAsked) {
  Config c = parse({});
  EXPECT_FALSE(c.server.access_log);
  EXPECT_FALSE(c.server.echo_request_id);
  c = parse({"--access-log", "--request-id"});
  EXPECT_TRUE(c.server.access_log);
  EXPECT_TRUE(c.server.echo_request_id);
  EXPECT_USAGE_ERROR_NAMING(({"--access-log=yes"}), "--access-log");
  EXPECT_USAGE_ERROR_NAMING(({"--request-id=1"}), "takes no value");
}

TEST(Config, TheLastOfARepeatedFlagWins) {
  EXPECT_EQ(parse({"--port", "1", "--port=2"}).server.listen.port, 2);
}

TEST(Config, RejectsABadPortNamingTheFlag) {
  EXPECT_USAGE_ERROR_NAMING(({"--port", "abc"}), "--port");
  EXPECT_USAGE_ERROR_NAMING(({"--port", "abc"}), "abc");
  EXPECT_USAGE_ERROR_NAMING(({"--port", "70000"}), "--port");
  EXPECT_USAGE_ERROR_NAMING(({"--port", "70000"}), "70000");
  EXPECT_USAGE_ERROR_NAMING(({"--port=80x"}), "--port");
  EXPECT_USAGE_ERROR_NAMING(({"--port="}), "--port");
  EXPECT_USAGE_ERROR_NAMING(({"--port", "-1"}), "--port");
}

TEST(Config, RejectsAnUnknownFlagNamingIt) {
  EXPECT_USAGE_ERROR_NAMING(({"--nope"}), "--nope");
  EXPECT_USAGE_ERROR_NAMING(({"--nope=1"}), "--nope");
  EXPECT_USAGE_ERROR_NAMING(({"serve"}), "serve");
  EXPECT_USAGE_ERROR_NAMING(({"-p", "80"}), "-p");
}

TEST(Config, RejectsAFlagWhoseValueIsMissing) {
  EXPECT_USAGE_ERROR_NAMING(({"--port"}), "--port");
  EXPECT_USAGE_ERROR_NAMING(({"--quiet", "--body"}), "--body");
}

TEST(Config, RejectsAValueGivenToAFlagThatTakesNone) {
  EXPECT_USAGE_ERROR_NAMING(({"--quiet=1"}), "--quiet");
  EXPECT_USAGE_ERROR_NAMING(({"--help=yes"}), "--help");
  EXPECT_USAGE_ERROR_NAMING(({"--version="}), "--version");
}

TEST(Config, RejectsOutOfRangeLimitsNamingTheFlag) {
  EXPECT_USAGE_ERROR_NAMING(({"--max-header-bytes", "10"}), "--max-header-bytes");
  EXPECT_USAGE_ERROR_NAMING(({"--max-header-bytes", "1GiB"}), "--max-header-bytes");
  EXPECT_USAGE_ERROR_NAMING(({"--max-target-bytes", "8"}), "--max-target-bytes");
  EXPECT_USAGE_ERROR_NAMING(({"--max-body-bytes", "3GiB"}), "--max-body-bytes");
  EXPECT_USAGE_ERROR_NAMING(({"--max-body-bytes", "lots"}), "--max-body-bytes");
  EXPECT_USAGE_ERROR_NAMING(({"--idle-timeout", "5d"}), "--idle-timeout");
  EXPECT_USAGE_ERROR_NAMING(({"--workers", "0"}), "--workers");
  EXPECT_USAGE_ERROR_NAMING(({"--workers", "257"}), "--workers");
  EXPECT_USAGE_ERROR_NAMING(({"--max-connections", "0"}), "--max-connections");
}

TEST(Config, ChoosesTheLogFormat) {
  EXPECT_EQ(parse({"--log-format", "json"}).log_format, LogFormat::json);
  EXPECT_EQ(parse({"--log-format=none"}).log_format, LogFormat::none);
  EXPECT_EQ(parse({"--log-format", "text"}, {{"LOG_FORMAT", "json"}}).log_format, LogFormat::text);
  EXPECT_EQ(parse({"--quiet"}).log_format, LogFormat::none);
  EXPECT_USAGE_ERROR_NAMING(({"--log-format", "xml"}), "--log-format");
  EXPECT_USAGE_ERROR_NAMING(({"--log-format", "xml"}), "xml");
  EXPECT_USAGE_ERROR_NAMING(({"--log-format"}), "--log-format");
}

TEST(Config, HelpVersionAndHealthcheckSelectTheirMode) {
  EXPECT_EQ(parse({"--help"}).mode, Config::Mode::help);
  EXPECT_EQ(parse({"-h"}).mode, Config::Mode::help);
  EXPECT_EQ(parse({"--version"}).mode, Config::Mode::version);
  EXPECT_EQ(parse({"--healthcheck"}).mode, Config::Mode::healthcheck);
  Config c = parse({"--port", "9000", "--healthcheck"});  // the health check reads the port
  EXPECT_EQ(c.mode, Config::Mode::healthcheck);
  EXPECT_EQ(c.server.listen.port, 9000);
}

TEST(Config, UsageDocumentsEveryFlag) {
  std::string text = usage();
  for (const char* flag : {"--port",
                           "--address",
                           "--body",
                           "--server-name",
                           "--log-format",
                           "--quiet",
                           "--access-log",
                           "--request-id",
                           "--workers",
                           "--max-header-bytes",
                           "--max-target-bytes",
                           "--max-body-bytes",
                           "--max-connections",
                           "--header-timeout",
                           "--idle-timeout",
                           "--write-timeout",
                           "--shutdown-timeout",
                           "--body-timeout",
                           "--max-requests-per-connection",
                           "--healthcheck",
                           "--version",
                           "--help"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
    // ...and each documented flag is accepted.
    EXPECT_NE(usage_error({flag}).find("unknown flag"), 0u) << flag;
  }
}

TEST(Config, VersionIsSemantic) {
  EXPECT_TRUE(std::regex_match(version(), std::regex(R"(\d+\.\d+\.\d+)"))) << version();
}

TEST(Config, ListenTakesEachFormAndTheFirstIsTheMainSocket) {
  Config c = parse({"--listen", "127.0.0.1:9000", "--listen=[::1]:9001", "--listen", ":9002",
                    "--listen", "unix:/run/h.sock"});
  EXPECT_EQ(c.server.listen.address, "127.0.0.1");
  EXPECT_EQ(c.server.listen.port, 9000);
  ASSERT_EQ(c.server.also_listen.size(), 3u);
  EXPECT_EQ(c.server.also_listen[0].address, "[::1]");
  EXPECT_EQ(c.server.also_listen[0].port, 9001);
  EXPECT_EQ(c.server.also_listen[1].address, "");  // every address
  EXPECT_EQ(c.server.also_listen[1].port, 9002);
  EXPECT_EQ(c.server.also_listen[2].address, "unix:/run/h.sock");
  EXPECT_EQ(c.server.also_listen[2].unix_mode, 0660u);
  // PORT from the environment gives way to --listen.
  EXPECT_EQ(parse({"--listen", "127.0.0.1:9000"}, {{"PORT", "7000"}}).server.listen.port, 9000);
}

TEST(Config, UnixModeAppliesToEveryUnixSocketInOctal) {
  Config c = parse({"--listen", "unix:/a.sock", "--unix-mode", "0666", "--listen", "unix:/b"});
  EXPECT_EQ(c.server.listen.unix_mode, 0666u);
  EXPECT_EQ(c.server.also_listen[0].unix_mode, 0666u);
  EXPECT_USAGE_ERROR_NAMING(({"--unix-mode", "0869"}), "--unix-mode");
  EXPECT_USAGE_ERROR_NAMING(({"--unix-mode", "rw"}), "--unix-mode");
}

TEST(Config, RefusesListenValuesItCannotServe) {
  EXPECT_USAGE_ERROR_NAMING(({"--listen", "8080"}), "HOST:PORT");
  EXPECT_USAGE_ERROR_NAMING(({"--listen", "::1:8080"}), "brackets");
  EXPECT_USAGE_ERROR_NAMING(({"--listen", "127.0.0.1:http"}), "--listen");
  EXPECT_USAGE_ERROR_NAMING(({"--listen", "127.0.0.1:70000"}), "65535");
  EXPECT_USAGE_ERROR_NAMING(({"--listen", "unix:"}), "path");
  // Two ways of saying where to listen: which one was meant is unclear.
  EXPECT_USAGE_ERROR_NAMING(({"--listen", ":9000", "--port", "9001"}), "--port");
  // Workers share TCP ports through SO_REUSEPORT; a unix socket has no such thing.
  EXPECT_USAGE_ERROR_NAMING(({"--listen", "unix:/a", "--workers", "2"}), "unix socket");
}

TEST(Config, ServesADirectoryWithRootAndItsFileFlags) {
  Config plain = parse({});
  EXPECT_EQ(plain.root, "");  // the --body text, as before
  EXPECT_EQ(plain.files.index, "index.html");
  EXPECT_FALSE(plain.files.list_directories);
  EXPECT_EQ(plain.files.cache_control, "");
  EXPECT_FALSE(plain.files.precompressed);
  Config c = parse({"--root", "/site", "--index=home.htm", "--dir-listing", "--cache-control",
                    "public, max-age=3600", "--precompressed"});
  EXPECT_EQ(c.root, "/site");
  EXPECT_EQ(c.files.index, "home.htm");
  EXPECT_TRUE(c.files.list_directories);
  EXPECT_EQ(c.files.cache_control, "public, max-age=3600");
  EXPECT_TRUE(c.files.precompressed);
  EXPECT_EQ(parse({"--index="}).files.index, "");
  EXPECT_USAGE_ERROR_NAMING(({"--root="}), "--root");
  EXPECT_USAGE_ERROR_NAMING(({"--index", "a/b.html"}), "--index");
  EXPECT_USAGE_ERROR_NAMING(({"--cache-control", "x\r\nSet-Cookie: a=1"}), "--cache-control");
  EXPECT_USAGE_ERROR_NAMING(({"--dir-listing=yes"}), "--dir-listing");
}

TEST(Config, InheritsSocketsOnlyWhenLISTEN_PIDIsThisProcess) {
  auto fds = inherited_listeners({{"LISTEN_PID", "42"}, {"LISTEN_FDS", "2"}}, 42);
  ASSERT_EQ(fds.size(), 2u);
  EXPECT_EQ(fds[0].fd, 3);  // SD_LISTEN_FDS_START
  EXPECT_EQ(fds[1].fd, 4);
  EXPECT_TRUE(inherited_listeners({{"LISTEN_PID", "41"}, {"LISTEN_FDS", "2"}}, 42).empty());
  EXPECT_TRUE(inherited_listeners({{"LISTEN_FDS", "2"}}, 42).empty());
  EXPECT_TRUE(inherited_listeners({}, 42).empty());
  EXPECT_THROW(inherited_listeners({{"LISTEN_PID", "42"}, {"LISTEN_FDS", "x"}}, 42), UsageError);
}

}  // namespace
}  // namespace hs
