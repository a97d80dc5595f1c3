// IPv6: a server bound to "::1" answers over IPv6 loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "integration_support.hpp"

namespace hs::test {
namespace {

// Whether this host can bind the IPv6 loopback address (containers may run without IPv6).
bool has_ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

ServerOptions ipv6_loopback() {
  ServerOptions o = TestServer::loopback();
  o.listen.address = "::1";
  return o;
}

TEST(Ipv6, AnswersOverTheIpv6Loopback) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "this host has no IPv6 loopback";
  TestServer server(ipv6_loopback());
  std::string name = server.call([&] { return server.server().address(); });
  EXPECT_EQ(name, "[::1]:" + std::to_string(server.port()));

  Client c(server.port(), /*ipv6=*/true);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 2; ++i) {  // kept alive over IPv6 as over IPv4
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n"));
    ParsedResponse r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "package main #14");
  }
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Ipv6, RejectsMalformedInputOverIpv6AsOverIpv4) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "this host has no IPv6 loopback";
  TestServer server(ipv6_loopback());
  Client c(server.port(), true);
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));  // no Host
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.closed_by_peer());
  Client next(server.port(), true);
  ASSERT_TRUE(next.send(kGet));
  EXPECT_EQ(next.read_response().status, 200);
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
