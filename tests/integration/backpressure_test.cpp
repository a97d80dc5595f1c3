// Backpressure: a client that pipelines requests without reading the responses is not read
// any further once its unsent output passes output_high_water; the server keeps serving
// others meanwhile, and when the client reads at last every response arrives, in order.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "integration_support.hpp"

namespace hs::test {
namespace {

TEST(Backpressure, StopsReadingAClientThatDoesNotReadAndAnswersEverythingWhenItDoes) {
  constexpr int kRequests = 20'000;
  const std::string padding(1000, 'p');  // ~20 MB of responses: far more than socket buffers
  TestServer server(TestServer::loopback(), [&padding](const Request& q, Response& r) {
    r.body.assign(q.target());
    r.body += padding;
  });

  Client greedy(server.port());
  ASSERT_TRUE(greedy.connected());
  // A small receive buffer (no autotuning up to tens of MB) so the kernel cannot absorb the
  // whole answer and the server's own buffer must fill.
  int receive_buffer = 64 * 1024;
  ASSERT_EQ(
      ::setsockopt(greedy.fd(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer), 0);
  std::string batch;
  batch.reserve(kRequests * 40);
  for (int i = 0; i < kRequests; ++i)
    batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";

  // Sent from a thread: once the server stops reading, send() blocks (bounded by the
  // client's 5 s send timeout) until the responses are read below.
  std::atomic<bool> sent_all{false};
  std::thread sender([&] { sent_all = greedy.send(batch); });

  // The server answers some, then stops: the count of requests settles below the total.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  uint64_t settled = server.stats().requests;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(server.stats().requests, settled) << "the server kept reading requests";
  EXPECT_GT(settled, 0u);
  EXPECT_LT(settled, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(server.connections(), 1u);  // the greedy client is held, not dropped

  // Another client is served at once meanwhile.
  auto start = std::chrono::steady_clock::now();
  ParsedResponse other = roundtrip(server.port(), "GET /other HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "/other" + padding);
  EXPECT_LT(elapsed_ms(start), 1000);

  // Now read: every response, in order.
  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    ParsedResponse r = greedy.read_response(5000);
    if (r.status != 200 || r.body.size() != padding.size() + 1 + std::to_string(i).size() ||
        r.body.compare(0, r.body.size() - padding.size(), "/" + std::to_string(i)) != 0) {
      ADD_FAILURE() << "response " << i << " is wrong: status " << r.status << ", "
                    << r.raw.substr(0, 200);
      break;
    }
    ++answered;
  }
  sender.join();
  EXPECT_TRUE(sent_all.load());
  EXPECT_EQ(answered, kRequests);
  EXPECT_FALSE(greedy.closed_by_peer(200));
  EXPECT_EQ(server.stats().requests, static_cast<uint64_t>(kRequests) + 1);
  expect_clean_shutdown(server);
}

TEST(Backpressure, ResumesParsingRequestsAlreadyBufferedWhenTheClientReads) {
  // A burst small enough to arrive in one read, with responses large enough that the first
  // few pass the high-water mark: the rest wait in the input buffer, then are answered
  // without any new byte from the client.
  ServerOptions options = TestServer::loopback();
  options.limits.output_high_water = 4 * 1024;
  const std::string large(100'000, 'L');
  TestServer server(options, [&large](const Request& q, Response& r) {
    r.body.assign(q.target());
    r.body += large;
  });
  Client c(server.port());
  std::string batch;
  for (int i = 0; i < 30; ++i)
    batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 30; ++i) {
    ParsedResponse r = c.read_response(5000);
    ASSERT_EQ(r.status, 200) << "response " << i;
    ASSERT_EQ(r.body.substr(0, r.body.size() - large.size()), "/" + std::to_string(i));
  }
  EXPECT_FALSE(c.closed_by_peer(200));
  EXPECT_EQ(server.stats().requests, 30u);
  expect_clean_shutdown(server);
}

TEST(Backpressure, ReadsOnOnceOutputDrainsWhenTheReadBufferEndedOnARequestBoundary) {
  // The read that filled the buffer was not short, so the socket may hold more: once the
  // output drains, the server must read on, since edge-triggered epoll reports no new edge
  // for bytes already waiting. A high-water mark of one byte makes the server stop after
  // every response; requests of 64 bytes end exactly where the 4 KiB read buffer does.
  ServerOptions options = TestServer::loopback();
  options.limits.output_high_water = 1;
  options.limits.read_buffer_bytes = 4096;
  Recorder recorder;
  TestServer server(options, recorder.handler());
  constexpr int kRequests = 128;  // two buffers full
  std::string batch;
  for (int i = 0; i < kRequests; ++i) {
    std::string request = "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
    request.insert(5 + std::to_string(i).size(), 64 - request.size(), '_');  // pad the path
    ASSERT_EQ(request.size(), 64u);
    batch += request;
  }
  Client c(server.port());
  ASSERT_TRUE(c.send(batch));  // one send: the server's first read fills its buffer
  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    ParsedResponse r = c.read_response(3000);
    if (r.status != 200) {
      ADD_FAILURE() << "no response " << i << " (" << recorder.calls()
                    << " requests handled): the server stopped reading";
      break;
    }
    ++answered;
  }
  EXPECT_EQ(answered, kRequests);
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
