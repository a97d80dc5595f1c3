#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>

#include "test_server.hpp"

namespace hs::test {
namespace {

// Streams `count` chunks of `size` bytes, as fast as the client takes them.
Handler counting_stream(int count, size_t size, std::shared_ptr<int> calls = nullptr) {
  return [=](const Request&, Response& response) {
    auto sent = std::make_shared<int>(0);
    response.set_header("Content-Type", "text/plain");
    response.stream([=](BodyWriter& w) {
      if (calls) ++*calls;
      while (*sent < count && w.ready()) {
        w.write(std::string(size, static_cast<char>('a' + *sent % 26)));
        ++*sent;
      }
      if (*sent == count) w.end();
    });
  };
}

TEST(Streaming, SendsAChunkedBodyAndKeepsTheConnectionForTheNextRequest) {
  TestServer server(TestServer::loopback(), counting_stream(3, 5));
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /s HTTP/1.1\r\nHost: a\r\n\r\nGET /t HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto first = c.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("transfer-encoding"), "chunked");
  EXPECT_FALSE(first.has("content-length"));
  EXPECT_EQ(first.body, "aaaaabbbbbccccc");
  auto second = c.read_response();  // the pipelined request waited for the stream to end
  EXPECT_EQ(second.body, "aaaaabbbbbccccc");
}

TEST(Streaming, StopsProducingWhileTheClientDoesNotRead) {
  auto calls = std::make_shared<int>(0);
  // 32 MiB in 64 KiB chunks: far more than loopback's socket buffers can hold.
  TestServer server(TestServer::loopback(), counting_stream(512, 64 * 1024, calls));
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int after_wait = server.call([&] { return *calls; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The producer was told to stop (ready() false) and is not called again until the client
  // reads: the count does not move, and far fewer than all chunks were produced.
  EXPECT_EQ(server.call([&] { return *calls; }), after_wait);
  EXPECT_LT(after_wait, 400);
  // Reading resumes the producer: everything arrives, then the last chunk and the close.
  std::string all = c.read_until_close(20000);
  EXPECT_GT(all.size(), 512u * 64 * 1024);
  EXPECT_EQ(all.substr(all.size() - 5), "0\r\n\r\n");
  EXPECT_EQ(server.call([&] { return *calls; }), 512);
}

TEST(Streaming, ASlowProducerIsCalledAgainThroughItsWaker) {
  // The producer has nothing at first; a timer on the reactor supplies data later.
  TestServer* self = nullptr;
  Handler handler = [&self](const Request&, Response& response) {
    auto step = std::make_shared<int>(0);
    response.stream([step, &self](BodyWriter& w) {
      if (*step == 0) {
        *step = 1;
        auto wake = w.waker();
        self->reactor().add_timer(50, 0, [wake] { wake(); });
        return;  // nothing to write yet
      }
      w.write("late data");
      w.end();
    });
  };
  TestServer server(TestServer::loopback(), handler);
  self = &server;
  auto r = roundtrip(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late data");
}

TEST(Streaming, Http10ClientsGetABodyDelimitedByClose) {
  TestServer server(TestServer::loopback(), counting_stream(2, 3));
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
  std::string all = c.read_until_close();
  EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(all.substr(all.size() - 6), "aaabbb");
}

TEST(Streaming, AWakerAfterTheClientLeftDoesNothing) {
  std::function<void()> saved;
  Handler handler = [&saved](const Request&, Response& response) {
    response.stream([&saved](BodyWriter& w) {
      if (!saved) saved = w.waker();  // never replace the function while it runs
    });
  };
  TestServer server(TestServer::loopback(), handler);
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    c.read_response(500);  // the head only: the body never ends
  }
  // Wait until the server has seen the close: the connection count drops to 0.
  for (int i = 0; i < 100 && server.connections() != 0; ++i) {
    server.call([&] {
      saved();
      return 0;
    });  // wake-ups write, fail and close the connection
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server.connections(), 0u);
  server.call([&] {  // must be harmless now
    saved();
    return 0;
  });
  // The server goes on: a new client gets the head of its own (endless) stream.
  Client next(server.port());
  ASSERT_TRUE(next.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(next.read_until_close(300).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

}  // namespace
}  // namespace hs::test
