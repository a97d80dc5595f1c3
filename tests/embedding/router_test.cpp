#include <gtest/gtest.h>

#include <httpserver/router.hpp>

#include "test_server.hpp"

namespace hs::test {
namespace {

Handler say(std::string text) {
  return [text](const Request&, Response& r) { r.body = text; };
}

Router routes() {
  Router router;
  router.get("/healthz", say("ok"))
      .post("/items", say("created"))
      .prefix("/static/", say("static"))
      .prefix("/static/img/", say("image"));
  return router;
}

TEST(Router, ServesExactPathsByMethodIgnoringTheQuery) {
  TestServer server(TestServer::loopback(), routes());
  EXPECT_EQ(roundtrip(server.port(), "GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").body, "ok");
  auto r = roundtrip(server.port(), "POST /items HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "created");
}

TEST(Router, AnswersWrongMethodWith405AndAllow) {
  TestServer server(TestServer::loopback(), routes());
  auto r = roundtrip(server.port(), "DELETE /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST(Router, ServesHeadThroughTheGetRouteWithoutABody) {
  TestServer server(TestServer::loopback(), routes());
  Client c(server.port());
  ASSERT_TRUE(c.send("HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto r = c.read_response(3000, /*head_request=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "2");
  EXPECT_EQ(r.body, "");
}

TEST(Router, PicksTheLongestPrefixAndAnswers404Otherwise) {
  TestServer server(TestServer::loopback(), routes());
  EXPECT_EQ(roundtrip(server.port(), "GET /static/a.css HTTP/1.1\r\nHost: a\r\n\r\n").body,
            "static");
  EXPECT_EQ(roundtrip(server.port(), "GET /static/img/a.png HTTP/1.1\r\nHost: a\r\n\r\n").body,
            "image");
  EXPECT_EQ(roundtrip(server.port(), "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n").status, 404);
}

TEST(Router, ComposesWithMiddlewareAsAnyHandler) {
  std::vector<std::string> order;
  Middleware mark = [&](Handler next) {
    return Handler([&order, next](const Request& q, Response& r) {
      order.push_back("middleware");
      next(q, r);
    });
  };
  Router router;
  router.get("/", [&](const Request&, Response& r) {
    order.push_back("route");
    r.body = "root";
  });
  Middleware layers[] = {mark};
  TestServer server(TestServer::loopback(), chain(layers, router));
  EXPECT_EQ(roundtrip(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").body, "root");
  EXPECT_EQ(order, (std::vector<std::string>{"middleware", "route"}));
}

}  // namespace
}  // namespace hs::test
