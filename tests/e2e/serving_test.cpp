// What a client of the running binary sees: the body, the port, the limits, the workers.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <memory>
#include <set>

#include "process.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

using hs::test::Client;
using hs::test::roundtrip;

const char kGet[] = " HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST(Serving, AnswersEveryPathWithTheTutorialBody) {
  Server server = start_server();
  ASSERT_TRUE(server);
  for (const char* target : {"/", "/any?x=1", "/deep/er/path", "/x?y=%20"}) {
    auto r = roundtrip(server.port, std::string("GET ") + target + kGet);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "package main #14") << target;
    EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("content-length"), "16");
  }
  auto post =
      roundtrip(server.port, "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "package main #14");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, BodyFlagChangesTheResponseBody) {
  Server server = start_server({"--body", "hello"});
  ASSERT_TRUE(server);
  auto r = roundtrip(server.port, std::string("GET /whatever") + kGet);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, ServerNameFlagSetsOrDropsTheServerField) {
  Server named = start_server({"--server-name", "edge/2"});
  ASSERT_TRUE(named);
  auto r = roundtrip(named.port, std::string("GET /") + kGet);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("server"), "edge/2");
  EXPECT_EQ(named.stop(SIGTERM), 0);

  Server anonymous = start_server({"--server-name="});
  ASSERT_TRUE(anonymous);
  r = roundtrip(anonymous.port, std::string("GET /") + kGet);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.has("server"));
  EXPECT_TRUE(r.has("date"));
  EXPECT_EQ(r.body, "package main #14");
  EXPECT_EQ(anonymous.stop(SIGTERM), 0);
}

TEST(Serving, PortFromTheEnvironmentChoosesThePort) {
  Server server = start_server([](uint16_t port) {
    return Launch{{}, {{"PORT", std::to_string(port)}}};
  });
  ASSERT_TRUE(server);
  EXPECT_EQ(roundtrip(server.port, std::string("GET /") + kGet).status, 200);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, PortFlagWinsOverThePortFromTheEnvironment) {
  uint16_t env_port = free_port();
  ASSERT_NE(env_port, 0);
  Server server = start_server([&](uint16_t port) {
    return Launch{{"--port", std::to_string(port)}, {{"PORT", std::to_string(env_port)}}};
  });
  ASSERT_TRUE(server);
  ASSERT_NE(server.port, env_port);
  EXPECT_EQ(roundtrip(server.port, std::string("GET /") + kGet).status, 200);
  EXPECT_EQ(try_connect(env_port), ECONNREFUSED) << "something listens on PORT too";
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, PortFlagWithEqualsWorks) {
  Server server = start_server([](uint16_t port) {
    return Launch{{"--port=" + std::to_string(port)}, {}};
  });
  ASSERT_TRUE(server);
  EXPECT_EQ(roundtrip(server.port, std::string("GET /") + kGet).status, 200);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, ABodyOverMaxBodyBytesGets413AndOneAtTheLimitGets200) {
  Server server = start_server({"--max-body-bytes", "10"});
  ASSERT_TRUE(server);
  auto ok = roundtrip(server.port,
                      "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(ok.status, 200);
  Client c(server.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n01234567890123456789"));
  auto r = c.read_response(3000);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer(3000));
  // A chunked body over the limit is refused too.
  Client chunked(server.port);
  ASSERT_TRUE(chunked.connected());
  ASSERT_TRUE(
      chunked.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.read_response(3000).status, 413);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, APartialHeadGets408AndIsClosedAfterTheHeaderTimeout) {
  Server server = start_server({"--header-timeout", "1s"});
  ASSERT_TRUE(server);
  Client c(server.port);
  ASSERT_TRUE(c.connected());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: a\r\n"));
  auto r = c.read_response(2500);
  int64_t waited = ms_since(start);
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_GE(waited, 900) << "timed out before the header timeout";
  EXPECT_LT(waited, 2500);
  EXPECT_TRUE(c.closed_by_peer(2500 - static_cast<int>(std::min<int64_t>(waited, 2000))));
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, TwoWorkersServeManyConnectionsAndLogEachRequestOnce) {
  Server server = start_server({"--workers", "2"});
  ASSERT_TRUE(server);
  constexpr int kConnections = 16;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<Client>(server.port));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (int i = 0; i < kConnections; ++i)
    ASSERT_TRUE(clients[static_cast<size_t>(i)]->send("GET /w/" + std::to_string(i) + kGet));
  for (int i = 0; i < kConnections; ++i) {
    auto r = clients[static_cast<size_t>(i)]->read_response(3000);
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.body, "package main #14");
  }
  // A second request on each kept-alive connection.
  for (int i = 0; i < kConnections; ++i)
    ASSERT_TRUE(clients[static_cast<size_t>(i)]->send("GET /w2/" + std::to_string(i) + kGet));
  for (int i = 0; i < kConnections; ++i)
    EXPECT_EQ(clients[static_cast<size_t>(i)]->read_response(3000).status, 200) << i;
  EXPECT_TRUE(server->wait_for_err(
      [](const std::string& s) { return lines_with(s, "uri: /w").size() >= 2 * kConnections; },
      2000));
  auto stopped = Clock::now();
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_LT(ms_since(stopped), 1000) << "idle keep-alive connections held up the exit";
  for (auto& c : clients) EXPECT_TRUE(c->closed_by_peer(1000));
  std::string err = server->err();
  std::multiset<std::string> logged;
  for (const auto& line : lines_with(err, "uri: /w")) {
    auto at = line.find("uri: ");
    logged.insert(line.substr(at, line.find('"', at) - at));
    EXPECT_EQ(line.rfind("time=\"", 0), 0u) << "torn line: " << line;
  }
  EXPECT_EQ(logged.size(), 2u * kConnections) << err;
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(logged.count("uri: /w/" + std::to_string(i)), 1u) << err;
    EXPECT_EQ(logged.count("uri: /w2/" + std::to_string(i)), 1u) << err;
  }
}

TEST(Serving, WorkersFromTheEnvironmentServe) {
  Server server = start_server({}, {{"WORKERS", "3"}});
  ASSERT_TRUE(server);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(roundtrip(server.port, std::string("GET /") + kGet).status, 200);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, TheDefaultListenerAnswersOverIpv6AndIpv4) {
  if (!ipv6_available()) GTEST_SKIP() << "no IPv6 on this host";
  Server server = start_server();
  ASSERT_TRUE(server);
  Client v6(server.port, true);
  ASSERT_TRUE(v6.connected()) << "nothing listens on [::1]:" << server.port;
  ASSERT_TRUE(v6.send(std::string("GET /over-ipv6") + kGet));
  auto r = v6.read_response(3000);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "package main #14");
  EXPECT_EQ(roundtrip(server.port, std::string("GET /over-ipv4") + kGet).status, 200);
  EXPECT_TRUE(server->wait_for_err("uri: /over-ipv4", 1000));
  EXPECT_EQ(lines_with(server->err(), "uri: /over-ipv6").size(), 1u) << server->err();
  v6.close();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serving, AnIpv6AddressFlagListensOnlyThere) {
  if (!ipv6_available()) GTEST_SKIP() << "no IPv6 on this host";
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  Process p({"--address", "::1", "--port", std::to_string(port)}, {});
  ASSERT_TRUE(p.wait_for_err("listening on [::1]:" + std::to_string(port), 3000)) << p.err();
  EXPECT_EQ(try_connect(port, true), 0);
  EXPECT_EQ(try_connect(port, false), ECONNREFUSED);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(2000), 0);
}

}  // namespace
}  // namespace e2e
