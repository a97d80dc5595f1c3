// Clients that leave abruptly or read oddly: a reset in the middle of a request or of a
// large response, a client that shuts down its sending side after its request, and one that
// reads its response a byte at a time. The server keeps serving, and leaks no descriptor.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.hpp"

namespace {

const std::string kGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

// A response body of `size` bytes, passed as --body.
std::string big_body(size_t size) {
  std::string body;
  for (size_t i = 0; body.size() < size; ++i) body += "line " + std::to_string(i) + " of a body\n";
  body.resize(size);
  return body;
}

TEST(Resets, ResetInTheMiddleOfARequestLeavesTheServerServing) {
  auto server = hostile::start({});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  const int rounds = hostile::pick(50, 2000);
  const std::string partial[] = {
      "GET /half HTTP/1.1\r\nHost: a\r\nX-Half: ",  // in the head
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + std::string(50000, 'b'),
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",  // in a chunk
      kGet + "GET /second HTTP/1.1\r\nHo",  // the second of a pipeline
  };
  for (int i = 0; i < rounds; ++i) {
    int fd = bb::connect_to(server->port());
    ASSERT_GE(fd, 0);
    const std::string& bytes = partial[static_cast<size_t>(i) % std::size(partial)];
    bb::set_timeouts(fd, 1000, 1000);
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (i % 2 == 1) bb::sleep_ms(1);  // sometimes the server has read it, sometimes not
    bb::reset_close(fd);
  }
  EXPECT_TRUE(server->running()) << server->output();
  bb::figure("resets mid-request: " + std::to_string(rounds) + " clients reset");
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

TEST(Resets, ResetInTheMiddleOfALargeResponseLeavesTheServerServing) {
  const std::string body = big_body(64 * 1024);
  auto server = hostile::start({"--body", body});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  const int rounds = hostile::pick(20, 500);
  std::string batch;
  for (int i = 0; i < 50; ++i) batch += kGet;  // 50 x 64 KiB of responses
  for (int i = 0; i < rounds; ++i) {
    int fd = bb::connect_to(server->port());
    ASSERT_GE(fd, 0);
    bb::set_timeouts(fd, 1000, 1000);
    ASSERT_EQ(::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(batch.size()));
    // Read part of the first response, then reset with the rest unread on both sides.
    char buffer[16384];
    size_t got = 0;
    for (int reads = 0; reads < 100 && got < 16384 + static_cast<size_t>(i) * 997; ++reads) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    EXPECT_GT(got, 0u) << "no response at all in round " << i;
    bb::reset_close(fd);
  }
  EXPECT_TRUE(server->running()) << server->output();
  bb::figure("resets mid-response: " + std::to_string(rounds) +
             " clients reset while 50 x 64 KiB responses were on their way");
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

// The response to a request followed at once by the client's FIN. A large response (over the
// 64 KiB output high-water mark) makes the server stop reading while it writes, so the EOF
// must still be noticed afterwards; each shape runs a few times, as it depends on timing.
TEST(HalfClose, ClientThatShutsDownSendingGetsItsWholeResponseAndTheClose) {
  for (const std::string& body : {std::string("package main #14"), big_body(64 * 1024)}) {
    SCOPED_TRACE("body of " + std::to_string(body.size()) + " bytes");
    auto server = hostile::start({"--body", body});
    ASSERT_TRUE(server);
    const int baseline = server->settled_fds();
    for (int requests : {1, 2, 10}) {
      for (int round = 0; round < 3; ++round) {
        SCOPED_TRACE(std::to_string(requests) + " pipelined requests, then SHUT_WR, round " +
                     std::to_string(round));
        int fd = bb::connect_to(server->port());
        ASSERT_GE(fd, 0);
        std::string batch;
        for (int i = 0; i < requests; ++i) batch += kGet;
        ASSERT_EQ(::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(batch.size()));
        ::shutdown(fd, SHUT_WR);
        bb::Exchange x = bb::exchange(fd, "", 3000);
        ::close(fd);
        std::string rest;
        auto responses = bb::parse_all(x.received, &rest);
        EXPECT_TRUE(x.peer_closed) << "the server closes once it has answered everything";
        EXPECT_FALSE(x.reset);
        ASSERT_EQ(responses.size(), static_cast<size_t>(requests));
        for (const auto& r : responses) {
          EXPECT_EQ(r.status, 200);
          EXPECT_TRUE(r.body == body);
        }
        EXPECT_EQ(rest, "");
      }
    }
    hostile::expect_prompt_200(*server);
    hostile::expect_fds_back(*server, baseline);
  }
}

TEST(SlowReader, ClientReadingOneByteAtATimeGetsEverything) {
  const std::string body = big_body(hostile::pick<size_t>(16 * 1024, 96 * 1024));
  auto server = hostile::start({"--body", body});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  int fd = bb::connect_to(server->port());
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const std::string batch = kGet + kGet + "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(batch.size()));
  std::string received;
  bool eof = false;
  auto start = bb::Clock::now();
  const size_t limit = 3 * (body.size() + 1024);
  while (!eof && received.size() < limit && bb::ms_since(start) < 30000) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) break;
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, 0);
    if (n == 1) {
      received += byte;
    } else {
      eof = true;
    }
  }
  int64_t ms = bb::ms_since(start);
  ::close(fd);
  std::string rest;
  auto responses = bb::parse_all(received, &rest);
  bb::figure("one-byte reader: " + std::to_string(received.size()) + " bytes in " +
             std::to_string(ms) + " ms, " + std::to_string(responses.size()) + " responses");
  EXPECT_TRUE(eof) << "the server closes after the Connection: close response";
  ASSERT_EQ(responses.size(), 3u);
  for (const auto& r : responses) {
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == body);
  }
  EXPECT_EQ(rest, "");
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

}  // namespace
