// max_connections: a client over the limit is answered 503 at once and closed; once a
// connection leaves, a new client is served again.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace hs::test {
namespace {

ServerOptions two_connections() {
  ServerOptions o = TestServer::loopback();
  o.max_connections = 2;
  return o;
}

TEST(MaxConnections, RefusesAThirdConnectionWith503AndServesANewOneAfterOneLeaves) {
  TestServer server(two_connections());
  Client a(server.port());
  Client b(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 2; }));

  Client third(server.port());
  ParsedResponse refused = third.read_response();  // sent without any request
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("connection"), "close");
  EXPECT_TRUE(third.closed_by_peer());
  EXPECT_EQ(server.stats().refused, 1u);

  // The two admitted connections are served as usual.
  for (Client* c : {&a, &b}) {
    ASSERT_TRUE(c->send(kGet));
    EXPECT_EQ(c->read_response().status, 200);
  }

  a.close();
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }));
  Client fourth(server.port());
  ASSERT_TRUE(fourth.send(kGet));
  ParsedResponse r = fourth.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(fourth.closed_by_peer(200));
  EXPECT_EQ(server.connections(), 2u);
  EXPECT_EQ(server.stats().refused, 1u);
  expect_clean_shutdown(server);
}

TEST(MaxConnections, CountsAConnectionClosedByTheServerAsGone) {
  TestServer server(two_connections());
  Client a(server.port());
  Client b(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 2; }));
  ASSERT_TRUE(a.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(a.read_response().status, 200);
  EXPECT_TRUE(a.closed_by_peer());
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }));
  ParsedResponse r = roundtrip(server.port(), kGet);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(server.stats().refused, 0u);
  expect_clean_shutdown(server);
}

TEST(MaxConnections, RefusesEveryClientOverTheLimitUntilOneLeaves) {
  TestServer server(two_connections());
  Client a(server.port());
  Client b(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 2; }));
  for (int i = 0; i < 5; ++i) {
    Client extra(server.port());
    EXPECT_EQ(extra.read_response().status, 503) << "extra client " << i;
    EXPECT_TRUE(extra.closed_by_peer());
  }
  EXPECT_EQ(server.stats().refused, 5u);
  EXPECT_EQ(server.connections(), 2u);
  b.close();
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }));
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
