// Deferred responses (Response::defer, hs::Deferred): a handler that answers later, from a
// timer or another thread, with pipelined requests waiting behind it and responses in request
// order; a client that leaves while one is pending; a dropped handle (500); the response
// timeout (504); a deferred streamed body and a deferred upload; shutdown with answers pending;
// many pending at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_server.hpp"

namespace hs::test {
namespace {

using namespace std::chrono_literals;

// Handles kept by the handler, sent later by the test (on the reactor's thread).
struct Pending {
  std::vector<std::pair<std::string, Deferred>> handles;  // target, handle
};

// Polls `condition` on the reactor's thread every 5 ms for at most `timeout_ms`.
template <class F>
bool eventually_call(TestServer& server, F condition, int timeout_ms = 3000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!server.call(condition)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string pipelined(int n, const std::string& prefix = "/d") {
  std::string batch;
  for (int i = 0; i < n; ++i)
    batch += "GET " + prefix + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
  return batch;
}

TEST(Deferred, AnswersSentInRandomOrderLeaveInRequestOrder) {
  auto pending = std::make_shared<Pending>();
  TestServer server(TestServer::loopback(), [pending](const Request& q, Response& r) {
    if (q.target().rfind("/now", 0) == 0) {
      r.body.assign(q.target());
      return;
    }
    pending->handles.emplace_back(std::string(q.target()), r.defer());
  });
  Client c(server.port());
  // Deferred and immediate answers mixed, all pipelined in one write.
  std::string batch;
  for (int i = 0; i < 12; ++i)
    batch += "GET /" + std::string(i % 3 == 0 ? "now" : "d") + std::to_string(i) +
             " HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_TRUE(c.send(batch));
  // One at a time: the requests behind a deferred one wait, so at most one is pending.
  std::mt19937 random(7);
  int sent = 0;
  auto posted = std::make_shared<std::atomic<int>>(0);
  for (int round = 0; round < 200 && sent < 8; ++round) {
    size_t count = server.call([&] { return pending->handles.size(); });
    if (count == 0) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    ASSERT_EQ(count, 1u) << "a request behind a pending one reached its handler";
    // Half from the reactor's thread directly, half from another thread through post().
    if (random() % 2) {
      server.call([&] {
        auto [target, handle] = std::move(pending->handles.back());
        pending->handles.pop_back();
        EXPECT_TRUE(handle.pending());
        handle.response().body = "later " + target;
        handle.send();
        EXPECT_FALSE(handle.pending());
      });
    } else {
      int expected = *posted + 1;
      std::thread other([&] {
        server.reactor().post([&] {
          auto [target, handle] = std::move(pending->handles.back());
          pending->handles.pop_back();
          handle.response().body = "later " + target;
          handle.send();
          ++*posted;
        });
      });
      other.join();
      EXPECT_TRUE(eventually_call(server, [&] { return *posted == expected; }));
    }
    ++sent;
  }
  for (int i = 0; i < 12; ++i) {
    ParsedResponse r = c.read_response();
    ASSERT_EQ(r.status, 200) << "response " << i;
    std::string target = "/" + std::string(i % 3 == 0 ? "now" : "d") + std::to_string(i);
    EXPECT_EQ(r.body, i % 3 == 0 ? target : "later " + target);
  }
  EXPECT_TRUE(server.shutdown());
}

TEST(Deferred, AResponseSentInsideTheHandlerGoesOutAtOnce) {
  TestServer server(TestServer::loopback(), [](const Request&, Response& r) {
    Deferred d = r.defer();
    d.response().status = 202;
    d.response().body = "at once";
    d.send();
  });
  Client c(server.port());
  ASSERT_TRUE(c.send(pipelined(3)));
  for (int i = 0; i < 3; ++i) {
    ParsedResponse r = c.read_response();
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body, "at once");
  }
  EXPECT_TRUE(server.shutdown());
}

TEST(Deferred, ADroppedHandleAnswers500AndTheConnectionGoesOn) {
  TestServer server(TestServer::loopback(), [](const Request& q, Response& r) {
    if (q.target() == "/drop") {
      Deferred dropped = r.defer();  // destroyed unsent when the handler returns
      return;
    }
    r.body = "fine";
  });
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /drop HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 500);
  ParsedResponse ok = c.read_response();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "fine");
  EXPECT_TRUE(server.shutdown());
}

TEST(Deferred, NotSentInTimeIsAnswered504AndALateSendDoesNothing) {
  ServerOptions options = TestServer::loopback();
  options.limits.response_timeout_ms = 200;
  auto pending = std::make_shared<Pending>();
  TestServer server(options, [pending](const Request& q, Response& r) {
    if (q.target() == "/slow") return pending->handles.emplace_back("/slow", r.defer()), void();
    r.body = "next";
  });
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse timed_out = c.read_response(5000);
  EXPECT_EQ(timed_out.status, 504);
  ParsedResponse next = c.read_response();
  EXPECT_EQ(next.body, "next");  // the connection goes on
  server.call([&] {
    Deferred& late = pending->handles.back().second;
    EXPECT_FALSE(late.pending());
    late.response().body = "too late";
    late.send();  // nothing
  });
  EXPECT_EQ(c.read_until_close(300), "");
  EXPECT_EQ(server.stats().traffic.timeouts.response, 1u);
  EXPECT_TRUE(server.shutdown());
}

TEST(Deferred, TheClientLeavingEndsPendingAndASendAfterItDoesNothing) {
  auto pending = std::make_shared<Pending>();
  TestServer server(TestServer::loopback(), [pending](const Request&, Response& r) {
    pending->handles.emplace_back("/", r.defer());
  });
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(eventually_call(server, [&] { return pending->handles.size() == 1; }));
    c.close();
  }
  ASSERT_TRUE(eventually_call(server, [&] { return server.server().connections() == 0; }));
  server.call([&] {
    Deferred& d = pending->handles.back().second;
    EXPECT_FALSE(d.pending());
    d.response().body = "nobody";
    d.send();
  });
  EXPECT_EQ(roundtrip(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 300).status, 0)
      << "a new request is deferred too: no answer within the wait";
  server.call([&] { pending->handles.clear(); });  // dropped: 500 to the second client, gone
  EXPECT_TRUE(server.shutdown());
}

TEST(Deferred, ADeferredResponseMayStreamItsBody) {
  auto pending = std::make_shared<Pending>();
  TestServer server(TestServer::loopback(), [pending](const Request& q, Response& r) {
    if (q.target() == "/after") return r.body.assign("after"), void();
    pending->handles.emplace_back("/", r.defer());
  });
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(eventually_call(server, [&] { return pending->handles.size() == 1; }));
  server.call([&] {
    Deferred& d = pending->handles.back().second;
    auto parts = std::make_shared<int>(0);
    d.response().stream([parts](BodyWriter& w) {
      w.write("part" + std::to_string((*parts)++) + ";");
      if (*parts == 3) w.end();
    });
    d.send();
  });
  ParsedResponse streamed = c.read_response();
  EXPECT_EQ(streamed.header("transfer-encoding"), "chunked");
  EXPECT_EQ(streamed.body, "part0;part1;part2;");
  EXPECT_EQ(c.read_response().body, "after");
  EXPECT_TRUE(server.shutdown());
}

// A body reader's end() may defer too: the upload is read, the answer comes later.
class DeferringReader final : public BodyReader {
 public:
  explicit DeferringReader(std::shared_ptr<Pending> pending) : pending_(std::move(pending)) {}
  Next data(std::string_view piece) override {
    bytes_ += piece.size();
    return Next::more;
  }
  void end(Response& response) override {
    pending_->handles.emplace_back(std::to_string(bytes_), response.defer());
  }

 private:
  std::shared_ptr<Pending> pending_;
  size_t bytes_ = 0;
};

TEST(Deferred, AnUploadReadAsItArrivesIsAnsweredLater) {
  auto pending = std::make_shared<Pending>();
  ServerOptions options = TestServer::loopback();
  options.stream_body = [](const Request&) { return true; };
  TestServer server(options, [pending](const Request& q, Response& r) {
    if (q.body_pending()) return r.read_body(std::make_shared<DeferringReader>(pending));
    r.body = "plain";
  });
  Client c(server.port());
  std::string body(100'000, 'u');
  ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + body +
                     "GET /then HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(eventually_call(server, [&] { return pending->handles.size() == 1; }));
  server.call([&] {
    auto& [bytes, d] = pending->handles.back();
    d.response().status = 201;
    d.response().body = "read " + bytes;
    d.send();
  });
  ParsedResponse up = c.read_response();
  EXPECT_EQ(up.status, 201);
  EXPECT_EQ(up.body, "read 100000");
  EXPECT_EQ(c.read_response().body, "plain");
  EXPECT_TRUE(server.shutdown());
}

TEST(Deferred, ShutdownWithAnswersPendingClosesWithinItsTimeout) {
  ServerOptions options = TestServer::loopback();
  options.shutdown_timeout_ms = 300;
  auto pending = std::make_shared<Pending>();
  TestServer server(options, [pending](const Request&, Response& r) {
    pending->handles.emplace_back("/", r.defer());
  });
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(eventually_call(server, [&] { return pending->handles.size() == 1; }));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(server.shutdown(3000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(c.closed_by_peer(1000));
  server.call([&] { EXPECT_FALSE(pending->handles.back().second.pending()); });
}

TEST(Deferred, TenThousandPendingOnAThousandConnectionsAreAllAnswered) {
  constexpr int kConnections = 1000;
  constexpr int kPerConnection = 10;
  auto pending = std::make_shared<Pending>();
  ServerOptions options = TestServer::loopback();
  options.max_connections = 2 * kConnections;
  TestServer server(options, [pending](const Request& q, Response& r) {
    pending->handles.emplace_back(std::string(q.target()), r.defer());
  });
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(clients.back()->send(pipelined(kPerConnection, "/c" + std::to_string(i) + "-")));
  }
  // Each connection holds one pending at a time; answer whatever is pending until all are.
  size_t answered = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (answered < size_t{kConnections} * kPerConnection &&
         std::chrono::steady_clock::now() < deadline) {
    answered += server.call([&] {
      size_t n = pending->handles.size();
      std::vector<std::pair<std::string, Deferred>> batch = std::move(pending->handles);
      pending->handles.clear();
      for (auto& [target, d] : batch) {
        d.response().body = target;
        d.send();
      }
      return n;
    });
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(answered, size_t{kConnections} * kPerConnection);
  for (int i = 0; i < kConnections; i += 97) {
    for (int k = 0; k < kPerConnection; ++k)
      EXPECT_EQ(clients[i]->read_response().body,
                "/c" + std::to_string(i) + "-" + std::to_string(k));
  }
  clients.clear();
  EXPECT_TRUE(server.shutdown(10000));
}

}  // namespace
}  // namespace hs::test
