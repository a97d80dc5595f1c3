// The command line as a user meets it: --help, --version, mistakes, a busy port, and
// --healthcheck against a running server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>

#include "process.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

TEST(CommandLine, HelpPrintsTheUsageToStdoutAndExitsZero) {
  RunResult r = run({"--help"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Usage: httpserver [flags]\n", 0), 0u) << r.out;
  for (const char* flag : {"--port N", "--body TEXT", "--log-format F", "--quiet", "--workers N",
                           "--max-body-bytes SIZE", "--header-timeout D", "--shutdown-timeout D",
                           "--healthcheck", "--version", "--help", "[PORT]", "[LOG_FORMAT]"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << "usage does not mention " << flag;
  EXPECT_EQ(r.err, "");
}

TEST(CommandLine, ShortHelpFlagPrintsTheSameUsage) {
  RunResult r = run({"-h"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, run({"--help"}).out);
}

TEST(CommandLine, VersionPrintsTheProgramNameAndVersionAndExitsZero) {
  RunResult r = run({"--version"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_FALSE(expected_version().empty()) << "HTTPSERVER_VERSION is not set by meson";
  EXPECT_EQ(r.out, "httpserver " + expected_version() + "\n");
  EXPECT_EQ(r.err, "");
}

struct BadInvocation {
  const char* name;
  std::vector<std::string> args;
  Env env;
  std::vector<std::string> mentions;  // what the message must name
};

void PrintTo(const BadInvocation& b, std::ostream* os) { *os << b.name; }

class BadCommandLine : public ::testing::TestWithParam<BadInvocation> {};

TEST_P(BadCommandLine, PrintsWhatIsWrongAndTheUsageToStderrAndExitsTwo) {
  const BadInvocation& bad = GetParam();
  RunResult r = run(bad.args, bad.env);
  ASSERT_EQ(r.code, 2) << "stderr:\n" << r.err;
  EXPECT_EQ(r.out, "");
  // The first line names the problem; the usage follows.
  std::string first = r.err.substr(0, r.err.find('\n'));
  EXPECT_EQ(first.rfind("httpserver: ", 0), 0u) << first;
  for (const auto& word : bad.mentions)
    EXPECT_NE(first.find(word), std::string::npos) << "'" << first << "' does not name " << word;
  EXPECT_NE(r.err.find("\nUsage: httpserver [flags]\n"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    E2e, BadCommandLine,
    ::testing::Values(
        BadInvocation{"UnknownFlag", {"--nope"}, {}, {"unknown flag", "--nope"}},
        BadInvocation{"PortThatIsNotANumber", {"--port", "abc"}, {}, {"--port", "abc"}},
        BadInvocation{"PortAbove65535", {"--port", "70000"}, {}, {"--port", "70000", "65535"}},
        BadInvocation{"PortGivenWithEquals", {"--port=70000"}, {}, {"--port", "70000"}},
        BadInvocation{"PortWithoutAValue", {"--port"}, {}, {"--port", "needs a value"}},
        BadInvocation{"HeaderTimeoutWithAnUnknownUnit",
                      {"--header-timeout", "5x"},
                      {},
                      {"--header-timeout", "5x"}},
        BadInvocation{"LogFormatXml", {"--log-format", "xml"}, {}, {"--log-format", "xml"}},
        BadInvocation{"WorkersZero", {"--workers", "0"}, {}, {"--workers", "0"}},
        BadInvocation{"HelpWithAValue", {"--help=yes"}, {}, {"--help", "takes no value"}},
        BadInvocation{"PortEnvironmentNotANumber", {}, {{"PORT", "abc"}}, {"PORT", "abc"}},
        BadInvocation{
            "LogFormatEnvironmentXml", {}, {{"LOG_FORMAT", "xml"}}, {"LOG_FORMAT", "xml"}}),
    [](const ::testing::TestParamInfo<BadInvocation>& info) { return info.param.name; });

TEST(CommandLine, APortAlreadyInUseExitsOneNamingBindAndTheAddress) {
  uint16_t port = 0;
  int holder = listen_everywhere(port);
  ASSERT_GE(holder, 0);
  RunResult r = run({"--port", std::to_string(port)});
  ::close(holder);
  ASSERT_EQ(r.code, 1) << "stderr:\n" << r.err;
  std::regex message("httpserver: bind (\\[::\\]|0\\.0\\.0\\.0):" + std::to_string(port) +
                     ": Address already in use\n");
  EXPECT_TRUE(std::regex_search(r.err, message)) << r.err;
  EXPECT_LT(r.ms, 3000);
}

TEST(CommandLine, APortInUseOnTheGivenAddressNamesThatAddress) {
  uint16_t port = 0;
  int holder = listen_everywhere(port);
  ASSERT_GE(holder, 0);
  RunResult r = run({"--address", "127.0.0.1", "--port", std::to_string(port)});
  ::close(holder);
  ASSERT_EQ(r.code, 1) << "stderr:\n" << r.err;
  EXPECT_NE(r.err.find("bind 127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
}

TEST(Healthcheck, ExitsZeroAgainstARunningServerOnThePortFromTheEnvironment) {
  Server server = start_server();
  ASSERT_TRUE(server);
  RunResult r = run({"--healthcheck"}, {{"PORT", std::to_string(server.port)}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.ms, 3000);
  // The server saw the probe like any request.
  EXPECT_TRUE(server->wait_for_err("msg=\"uri: /healthz\"", 2000)) << server->err();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Healthcheck, ExitsZeroAgainstARunningServerOnThePortFromTheFlag) {
  Server server = start_server();
  ASSERT_TRUE(server);
  // The flag wins over a PORT that points nowhere.
  RunResult r = run({"--healthcheck", "--port", std::to_string(server.port)},
                    {{"PORT", std::to_string(free_port())}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.ms, 3000);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Healthcheck, ExitsOneQuicklyWhenNothingListens) {
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  RunResult r = run({"--healthcheck", "--port", std::to_string(port)});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(r.ms, 3000);
  EXPECT_NE(r.err.find("healthcheck"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(port)), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Healthcheck, ExitsOneWhenTheServerStopped) {
  Server server = start_server();
  ASSERT_TRUE(server);
  uint16_t port = server.port;
  ASSERT_EQ(server.stop(SIGTERM), 0);
  RunResult r = run({"--healthcheck"}, {{"PORT", std::to_string(port)}});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(r.ms, 3000);
}

}  // namespace
}  // namespace e2e
