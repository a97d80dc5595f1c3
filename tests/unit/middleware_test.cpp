#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>

#include "message_access.hpp"

namespace hs {
namespace {

// A middleware that records its entry and exit around the next handler.
Middleware tracer(std::vector<std::string>& trace, std::string name) {
  return [&trace, name](Handler next) -> Handler {
    return [&trace, name, next](const Request& q, Response& r) {
      trace.push_back(name + ">");
      next(q, r);
      trace.push_back("<" + name);
    };
  };
}

Request get(std::string_view target) {
  Request q;
  hs::RequestAccess::set(q, "GET", target, 1, 1, {}, "", true);
  return q;
}

// The read end of a pipe, non-blocking, and everything currently in it.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    EXPECT_EQ(::pipe2(fd, O_CLOEXEC), 0);
    ::fcntl(fd[0], F_SETFL, ::fcntl(fd[0], F_GETFL) | O_NONBLOCK);
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  std::string read_all() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(Middleware, ChainRunsTheFirstMiddlewareOutermostAndUnwindsInReverse) {
  std::vector<std::string> trace;
  std::vector<Middleware> layers = {tracer(trace, "a"), tracer(trace, "b")};
  Handler h = chain(layers, [&](const Request&, Response& r) {
    trace.push_back("h");
    r.body = "root";
  });
  Response r;
  h(get("/"), r);
  EXPECT_EQ(trace, (std::vector<std::string>{"a>", "b>", "h", "<b", "<a"}));
  EXPECT_EQ(r.body, "root");
}

TEST(Middleware, AnEmptyChainIsTheRootHandler) {
  int calls = 0;
  Handler h = chain({}, [&](const Request&, Response& r) {
    ++calls;
    r.status = 201;
  });
  Response r;
  h(get("/"), r);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.status, 201);
}

TEST(Middleware, ChainWrapsOnceNotOnEveryRequest) {
  int wraps = 0;
  Middleware counting = [&](Handler next) -> Handler {
    ++wraps;
    return next;
  };
  std::vector<Middleware> layers = {counting, counting};
  int calls = 0;
  Handler h = chain(layers, [&](const Request&, Response&) { ++calls; });
  EXPECT_EQ(wraps, 2);
  Response r;
  for (int i = 0; i < 5; ++i) h(get("/"), r);
  EXPECT_EQ(wraps, 2);
  EXPECT_EQ(calls, 5);
}

TEST(Middleware, AMiddlewareCanAnswerWithoutCallingTheRoot) {
  Middleware deny = [](Handler) -> Handler {
    return [](const Request&, Response& r) { r.status = 403; };
  };
  std::vector<Middleware> layers = {deny};
  bool root_ran = false;
  Handler h = chain(layers, [&](const Request&, Response&) { root_ran = true; });
  Response r;
  h(get("/"), r);
  EXPECT_FALSE(root_ran);
  EXPECT_EQ(r.status, 403);
}

TEST(Middleware, LoggingWritesOneUriLineBeforeTheRootHandlerRuns) {
  Pipe pipe;
  Logger logger(pipe.fd[1], LoggerOptions{});
  std::vector<Middleware> layers = {logging(logger)};
  std::string seen_by_root;
  Handler h = chain(layers, [&](const Request&, Response& r) {
    // By now the line is written to the logger: flushed here, it is in the pipe.
    logger.flush();
    seen_by_root = pipe.read_all();
    r.body = "ok";
  });
  Response r;
  h(get("/x?y=1"), r);
  EXPECT_EQ(count_lines(seen_by_root), 1u) << seen_by_root;
  EXPECT_NE(seen_by_root.find(" level=info msg=\"uri: /x?y=1\"\n"), std::string::npos)
      << seen_by_root;
  EXPECT_EQ(r.body, "ok");
  logger.flush();
  EXPECT_EQ(pipe.read_all(), "");  // nothing more after the handler
}

TEST(Middleware, LoggingWritesExactlyOneLinePerRequest) {
  Pipe pipe;
  Logger logger(pipe.fd[1], LoggerOptions{});
  std::vector<Middleware> layers = {logging(logger)};
  Handler h = chain(layers, text("body"));
  Response r;
  for (auto target : {"/one", "/two", "/three"}) {
    r.clear();
    h(get(target), r);
  }
  logger.flush();
  std::string out = pipe.read_all();
  ASSERT_EQ(count_lines(out), 3u) << out;
  size_t one = out.find("msg=\"uri: /one\"\n");
  size_t two = out.find("msg=\"uri: /two\"\n");
  size_t three = out.find("msg=\"uri: /three\"\n");
  ASSERT_NE(one, std::string::npos) << out;
  ASSERT_NE(two, std::string::npos) << out;
  ASSERT_NE(three, std::string::npos) << out;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
}

TEST(Middleware, LoggingLogsTheTargetAsTheClientSentIt) {
  Pipe pipe;
  Logger logger(pipe.fd[1], LoggerOptions{LogFormat::json, 1 << 20, 0});
  std::vector<Middleware> layers = {logging(logger)};
  Handler h = chain(layers, text("x"));
  Response r;
  h(get("http://h:1/p?q=\"a\""), r);
  logger.flush();
  std::string out = pipe.read_all();
  EXPECT_NE(out.find(R"("msg":"uri: http://h:1/p?q=\"a\"")"), std::string::npos) << out;
}

TEST(Middleware, LoggingWithFormatNoneWritesNothingAndStillCallsTheRoot) {
  Pipe pipe;
  Logger logger(pipe.fd[1], LoggerOptions{LogFormat::none, 1 << 20, 0});
  std::vector<Middleware> layers = {logging(logger)};
  bool root_ran = false;
  Handler h = chain(layers, [&](const Request&, Response&) { root_ran = true; });
  Response r;
  h(get("/x"), r);
  logger.flush();
  EXPECT_TRUE(root_ran);
  EXPECT_EQ(pipe.read_all(), "");
}

TEST(Middleware, TextAnswers200WithPlainTextAndTheBody) {
  Handler h = text("package main #14");
  Response r;
  h(get("/anything"), r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "package main #14");
  ASSERT_EQ(r.headers().size(), 1u);
}

TEST(Middleware, TextAnswersTheSameForEveryPathAndMethod) {
  Handler h = text("same");
  for (auto [method, target] :
       {std::pair{"GET", "/"}, std::pair{"POST", "/a/b?c"}, std::pair{"DELETE", "*"}}) {
    Request q;
    hs::RequestAccess::set(q, method, target, 1, 1, {}, "ignored body", true);
    Response r;
    h(q, r);
    EXPECT_EQ(r.status, 200) << method << " " << target;
    EXPECT_EQ(r.body, "same") << method << " " << target;
  }
}

// middleware.hpp: text() answers "200 ... for every request". It must set each part itself,
// not rely on what an outer layer left in the Response.
TEST(Middleware, TextReplacesStatusTypeAndBodyLeftInTheResponse) {
  Handler h = text("fresh");
  Response r;
  r.status = 404;
  r.set_header("Content-Type", "text/html");
  r.body = "stale body that is longer";
  h(get("/"), r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers().size(), 1u);
  EXPECT_EQ(r.body, "fresh");
}

}  // namespace
}  // namespace hs
