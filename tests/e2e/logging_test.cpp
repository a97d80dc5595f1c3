// What the server writes to stderr: one logrus line per request, in text or JSON, or none.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <ctime>
#include <regex>

#include "process.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

using hs::test::Client;
using hs::test::roundtrip;

// RFC 3339 as logrus writes it: seconds, then Z or the local offset.
const std::string kTime = R"((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)))";

std::string escape_regex(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

std::regex text_line(const std::string& msg) {
  return std::regex("^time=\"" + kTime + "\" level=info msg=" + escape_regex(msg) + "$");
}

std::regex json_line(const std::string& msg) {
  return std::regex(R"(^\{"level":"info","msg":)" + escape_regex(msg) + R"(,"time":")" + kTime +
                    R"("\}$)");
}

// The one line of `log` that matches `pattern`, with its timestamp; fails unless exactly one.
std::optional<std::string> only_line(const std::string& log, const std::regex& pattern,
                                     std::string* stamp = nullptr) {
  std::optional<std::string> found;
  int count = 0;
  for (const auto& line : lines(log)) {
    std::smatch m;
    if (std::regex_match(line, m, pattern)) {
      ++count;
      found = line;
      if (stamp) *stamp = m[1];
    }
  }
  if (count != 1) return std::nullopt;
  return found;
}

bool has_match(const std::string& log, const std::regex& pattern) {
  for (const auto& line : lines(log))
    if (std::regex_match(line, pattern)) return true;
  return false;
}

const char kGet[] = " HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST(Logging, EachRequestIsLoggedAsALogrusTextLineWithTheTimeAndTheUri) {
  Server server = start_server();
  ASSERT_TRUE(server);
  auto r = roundtrip(server.port, std::string("GET /any?x=1") + kGet);
  ASSERT_EQ(r.status, 200);
  std::regex pattern = text_line(R"("uri: /any?x=1")");
  // The line is written in the same loop iteration as the response: it is there at once.
  auto answered = Clock::now();
  EXPECT_TRUE(
      server->wait_for_err([&](const std::string& s) { return has_match(s, pattern); }, 1000))
      << server->err();
  EXPECT_LT(ms_since(answered), 500);
  std::string stamp;
  auto line = only_line(server->err(), pattern, &stamp);
  ASSERT_TRUE(line) << server->err();
  auto when = parse_rfc3339(stamp);
  ASSERT_TRUE(when) << stamp;
  EXPECT_LE(std::abs(static_cast<long>(*when - std::time(nullptr))), 5L)
      << "the logged time " << stamp << " is not now";
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Logging, StartupAndShutdownAreLoggedWithTheAddress) {
  Server server = start_server();
  ASSERT_TRUE(server);
  std::string port = std::to_string(server.port);
  std::regex listening("^time=\"" + kTime + "\" level=info msg=\"listening on " +
                       "(\\[::\\]|0\\.0\\.0\\.0):" + port + "\"$");
  EXPECT_TRUE(
      server->wait_for_err([&](const std::string& s) { return has_match(s, listening); }, 1000))
      << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_TRUE(has_match(server->err(), text_line(R"("shutting down: SIGTERM")"))) << server->err();
}

TEST(Logging, TimestampsCarryTheLocalUtcOffset) {
  // POSIX TZ strings need no time zone database: "XYZ-5:30" is UTC+05:30.
  for (auto [tz, suffix] :
       {std::pair{"XYZ-5:30", "+05:30"}, std::pair{"UTC0", "Z"}, std::pair{"ABC+3", "-03:00"}}) {
    Server server = start_server({}, {{"TZ", tz}});
    ASSERT_TRUE(server);
    ASSERT_EQ(roundtrip(server.port, std::string("GET /tz") + kGet).status, 200);
    std::regex pattern = text_line(R"("uri: /tz")");
    ASSERT_TRUE(
        server->wait_for_err([&](const std::string& s) { return has_match(s, pattern); }, 1000));
    std::string stamp;
    ASSERT_TRUE(only_line(server->err(), pattern, &stamp)) << server->err();
    EXPECT_TRUE(stamp.size() > 6 && stamp.substr(stamp.size() - std::strlen(suffix)) == suffix)
        << "TZ=" << tz << " logged " << stamp;
    auto when = parse_rfc3339(stamp);
    ASSERT_TRUE(when) << stamp;
    EXPECT_LE(std::abs(static_cast<long>(*when - std::time(nullptr))), 5L)
        << "TZ=" << tz << ": " << stamp << " is not now";
    EXPECT_EQ(server.stop(SIGTERM), 0);
  }
}

TEST(Logging, JsonFormatWritesOneLogrusJsonObjectPerRequest) {
  Server server = start_server({"--log-format=json"});
  ASSERT_TRUE(server);
  ASSERT_EQ(roundtrip(server.port, std::string("GET /x") + kGet).status, 200);
  std::regex pattern = json_line(R"("uri: /x")");
  EXPECT_TRUE(
      server->wait_for_err([&](const std::string& s) { return has_match(s, pattern); }, 1000))
      << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  // Every line is JSON, startup and shutdown included.
  for (const auto& line : lines(server->err()))
    EXPECT_TRUE(std::regex_match(
        line, std::regex(R"(^\{"level":"info","msg":".*","time":")" + kTime + R"("\}$)")))
        << line;
}

TEST(Logging, LogFormatFromTheEnvironmentSelectsJson) {
  Server server = start_server({}, {{"LOG_FORMAT", "json"}});
  ASSERT_TRUE(server);
  ASSERT_EQ(roundtrip(server.port, std::string("GET /env") + kGet).status, 200);
  std::regex pattern = json_line(R"("uri: /env")");
  EXPECT_TRUE(
      server->wait_for_err([&](const std::string& s) { return has_match(s, pattern); }, 1000))
      << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Logging, TheLogFormatFlagWinsOverTheEnvironment) {
  Server server = start_server({"--log-format", "text"}, {{"LOG_FORMAT", "json"}});
  ASSERT_TRUE(server);
  ASSERT_EQ(roundtrip(server.port, std::string("GET /flag") + kGet).status, 200);
  std::regex pattern = text_line(R"("uri: /flag")");
  EXPECT_TRUE(
      server->wait_for_err([&](const std::string& s) { return has_match(s, pattern); }, 1000))
      << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

// Serves a request, stops the server and returns everything it wrote to stderr.
std::string stderr_of_one_request(std::vector<std::string> args, Env env = {}) {
  Server server = start_server(std::move(args), std::move(env));
  if (!server) return "<no server>";
  auto r = roundtrip(server.port, std::string("GET /silent") + kGet);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "package main #14");
  sleep_ms(200);  // room for a line that should not come
  EXPECT_EQ(server.stop(SIGTERM), 0);
  return server->err();
}

TEST(Logging, LogFormatNoneWritesNoRequestLines) {
  std::string err = stderr_of_one_request({"--log-format=none"});
  EXPECT_EQ(lines_with(err, "uri:").size(), 0u) << err;
  EXPECT_EQ(lines_with(err, "/silent").size(), 0u) << err;
}

TEST(Logging, QuietWritesNoRequestLines) {
  std::string err = stderr_of_one_request({"--quiet"});
  EXPECT_EQ(lines_with(err, "uri:").size(), 0u) << err;
}

TEST(Logging, QuietWinsOverLogFormatFromTheEnvironment) {
  std::string err = stderr_of_one_request({"--quiet"}, {{"LOG_FORMAT", "json"}});
  EXPECT_EQ(lines_with(err, "uri:").size(), 0u) << err;
}

TEST(Logging, LogFormatNoneFromTheEnvironmentWritesNoRequestLines) {
  std::string err = stderr_of_one_request({}, {{"LOG_FORMAT", "none"}});
  EXPECT_EQ(lines_with(err, "uri:").size(), 0u) << err;
}

// A target with a quote, a backslash, an encoded newline, an invalid UTF-8 byte and a U+2028
// line separator: the parser accepts all of them raw. (A raw tab is whitespace, which RFC 9112
// does not allow in a target: that gets 400.)
const std::string kHostileTarget =
    "/a\"b\\c%0Ade\xff"
    "f\xe2\x80\xa8g";

TEST(Logging, AHostileTargetStaysOnOneTextLineQuotedAsLogrusQuotesIt) {
  Server server = start_server();
  ASSERT_TRUE(server);
  auto r = roundtrip(server.port, "GET " + kHostileTarget + kGet);
  ASSERT_EQ(r.status, 200) << "the parser rejected the target";
  ASSERT_EQ(roundtrip(server.port, std::string("GET /next") + kGet).status, 200);
  ASSERT_TRUE(server->wait_for_err("uri: /next", 1000)) << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  std::string err = server->err();
  // Go's strconv.Quote: \" \\ \xff \u2028; %0A stays as sent.
  auto line = only_line(err, text_line(R"("uri: /a\"b\\c%0Ade\xfff\u2028g")"));
  EXPECT_TRUE(line) << err;
  // Nothing leaked onto a line of its own: every line is a whole logrus line.
  for (const auto& l : lines(err))
    EXPECT_EQ(l.rfind("time=\"", 0), 0u) << "a line was split: " << l;
  EXPECT_EQ(lines_with(err, "uri: /a").size(), 1u) << err;
}

TEST(Logging, AHostileTargetStaysOnOneJsonLineEscapedAsLogrusEscapesIt) {
  Server server = start_server({"--log-format=json"});
  ASSERT_TRUE(server);
  auto r = roundtrip(server.port, "GET " + kHostileTarget + "<&>" + kGet);
  ASSERT_EQ(r.status, 200) << "the parser rejected the target";
  ASSERT_EQ(roundtrip(server.port, std::string("GET /next") + kGet).status, 200);
  ASSERT_TRUE(server->wait_for_err("uri: /next", 1000)) << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  std::string err = server->err();
  // encoding/json: \" \\, U+FFFD for the invalid byte, \u2028, and HTML escaping of <&>.
  auto line = only_line(err, json_line(R"("uri: /a\"b\\c%0Ade\ufffdf\u2028g\u003c\u0026\u003e")"));
  EXPECT_TRUE(line) << err;
  for (const auto& l : lines(err)) EXPECT_EQ(l.rfind("{\"level\":", 0), 0u) << l;
}

TEST(Logging, ARequestTargetWithAControlByteIsRejectedAndNeverReachesTheLog) {
  Server server = start_server();
  ASSERT_TRUE(server);
  auto r = roundtrip(server.port, std::string("GET /a\nb") + kGet);
  EXPECT_EQ(r.status, 400);
  ASSERT_EQ(roundtrip(server.port, std::string("GET /next") + kGet).status, 200);
  ASSERT_TRUE(server->wait_for_err("uri: /next", 1000)) << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_EQ(lines_with(server->err(), "uri: /a").size(), 0u) << server->err();
}

TEST(Logging, OneLinePerRequestForAHundredPipelinedRequests) {
  Server server = start_server();
  ASSERT_TRUE(server);
  Client c(server.port);
  ASSERT_TRUE(c.connected());
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += "GET /p/" + std::to_string(i) + kGet;
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 100; ++i) {
    auto r = c.read_response(3000);
    ASSERT_EQ(r.status, 200) << "response " << i;
    ASSERT_EQ(r.body, "package main #14");
  }
  EXPECT_TRUE(server->wait_for_err(
      [](const std::string& s) { return lines_with(s, "uri: /p/").size() >= 100; }, 2000));
  c.close();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  std::vector<std::string> logged = lines_with(server->err(), "uri: /p/");
  ASSERT_EQ(logged.size(), 100u) << server->err();
  // In order, each a whole logrus line.
  std::regex pattern("^time=\"" + kTime + R"re(" level=info msg="uri: /p/(\d+)"$)re");
  for (size_t i = 0; i < logged.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(logged[i], m, pattern)) << logged[i];
    EXPECT_EQ(m[2], std::to_string(i));
  }
}

}  // namespace
}  // namespace e2e
