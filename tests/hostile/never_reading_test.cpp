// A client that pipelines requests as fast as it can and never reads a response. The server
// must stop reading once its output backs up (backpressure), so its memory stays bounded
// however long the client goes on, and drop the client after --write-timeout without
// progress.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.hpp"

namespace {

constexpr long kRssLimitKib = 64 * 1024;

int tcp_state(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
  return info.tcpi_state;
}

// Sends pipelined GETs on `fd` for `ms`, never reading; returns the bytes sent.
size_t flood(int fd, int ms) {
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "GET /flood HTTP/1.1\r\nHost: a\r\n\r\n";
  bb::set_timeouts(fd, 100, 100);  // a blocked send gives up after 100 ms and we go on
  size_t sent = 0;
  auto start = bb::Clock::now();
  for (int round = 0; round < 10'000'000 && bb::ms_since(start) < ms; ++round) {
    ssize_t n = ::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<size_t>(n);
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;  // dropped: the caller checks
  }
  return sent;
}

TEST(NeverReadingClient, PipeliningForeverKeepsServerMemoryBounded) {
  // The default --write-timeout (30 s) outlasts the flood: the client stays connected.
  auto server = hostile::start({});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  hostile::RssSampler rss(server->pid());
  int fd = bb::connect_to(server->port());
  ASSERT_GE(fd, 0);
  const int flood_ms = hostile::pick(3000, 20000);
  size_t sent = flood(fd, flood_ms);
  rss.stop();
  long peak = rss.peak_kib();
  bb::figure("never-reading pipeliner: " + std::to_string(sent / 1024) + " KiB (" +
             std::to_string(sent / 33) + " requests) sent in " + std::to_string(flood_ms) +
             " ms; server VmRSS " + std::to_string(rss.first_kib()) + " KiB before, peak " +
             std::to_string(peak) + " KiB");
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, kRssLimitKib) << "server VmRSS peak in KiB";
  EXPECT_EQ(tcp_state(fd), TCP_ESTABLISHED) << "dropped before --write-timeout";
  EXPECT_TRUE(server->running()) << server->output();
  bb::reset_close(fd);
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

TEST(NeverReadingClient, IsDroppedAfterTheWriteTimeout) {
  auto server = hostile::start({"--write-timeout", "2s"});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  int fd = bb::connect_to(server->port());
  ASSERT_GE(fd, 0);
  flood(fd, 500);
  // Its output has made no progress since the flood filled our receive buffer: within
  // --write-timeout (2 s) and a 1 s tick the server closes. It had unread requests, so the
  // close is a reset: our socket leaves ESTABLISHED. We still read nothing.
  auto wait = bb::Clock::now();
  int state = tcp_state(fd);
  while (state == TCP_ESTABLISHED && bb::ms_since(wait) < 2000 + 1000 + 1000) {
    bb::sleep_ms(20);
    state = tcp_state(fd);
  }
  int64_t dropped_ms = bb::ms_since(wait);
  EXPECT_NE(state, TCP_ESTABLISHED) << "still connected after " << dropped_ms << " ms";
  bb::figure("never-reading client dropped " + std::to_string(dropped_ms) +
             " ms after its flood ended (--write-timeout 2s, 1 s tick)");
  ::close(fd);
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

}  // namespace
