// Slowloris: clients that send a request head one byte every 300 ms never finish it within
// --header-timeout. Each must get 408 and be closed once the timeout has passed (deadlines
// are checked by a 1 s tick), and clients that send nothing are closed silently, a header
// timeout after the kernel hands them over (the listener defers accept: about 1 s after their
// connect); meanwhile normal requests on other connections are answered at once.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.hpp"

namespace {

constexpr int kHeaderTimeoutMs = 2000;
constexpr int kTickMs = 1000;
constexpr int kByteEveryMs = 300;
// TCP_DEFER_ACCEPT: a client that sends nothing is handed over after the kernel's one SYN-ACK
// retransmission.
constexpr int kDeferAcceptMs = 1000;

struct Slow {
  int fd = -1;
  size_t next = 0;  // next byte of the head to send
  std::string received;
  int64_t closed_ms = -1;  // since the first byte, -1 while open
};

TEST(Slowloris, SlowHeadsGet408AtTheHeaderTimeoutWhileOthersAreServed) {
  auto server = hostile::start({"--header-timeout", "2s"});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  const int slow_count = hostile::pick(10, 200);
  const int silent_count = hostile::pick(3, 50);
  // Long enough that it can never be complete in time: 2 s / 300 ms is 7 bytes.
  const std::string head =
      "GET /slow HTTP/1.1\r\nHost: a\r\nX-Slow: " + std::string(100, 's') + "\r\n\r\n";

  std::vector<Slow> clients(static_cast<size_t>(slow_count + silent_count));
  for (auto& c : clients) {
    c.fd = bb::connect_to(server->port(), 2000);
    ASSERT_GE(c.fd, 0);
  }
  auto start = bb::Clock::now();
  int64_t worst_get_ms = 0;
  int gets = 0, good_gets = 0;
  // Bounded: the head would take 100 * 300 ms; we stop at 3 timeouts.
  while (bb::ms_since(start) < 3 * kHeaderTimeoutMs + kTickMs) {
    bool all_closed = true;
    for (size_t i = 0; i < clients.size(); ++i) {
      Slow& c = clients[i];
      if (c.closed_ms >= 0) continue;
      all_closed = false;
      bool silent = i >= static_cast<size_t>(slow_count);
      // Read first, then send: a byte sent after the server's close would draw a reset.
      pollfd p{c.fd, POLLIN, 0};
      // Read everything that is there; stop at EOF or reset.
      for (int reads = 0; reads < 16 && ::poll(&p, 1, 0) == 1; ++reads) {
        char buffer[4096];
        ssize_t n = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
          c.received.append(buffer, static_cast<size_t>(n));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) c.closed_ms = bb::ms_since(start);
        break;
      }
      if (c.closed_ms < 0 && !silent && c.next < head.size())
        ::send(c.fd, head.data() + c.next++, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (all_closed) break;
    // Another client, served while the slow ones hold their connections.
    int64_t ms = 0;
    ++gets;
    if (bb::plain_get(server->port(), 2000, &ms) == 200) ++good_gets;
    worst_get_ms = std::max(worst_get_ms, ms);
    int64_t spent = ms;
    if (spent < kByteEveryMs) bb::sleep_ms(static_cast<int>(kByteEveryMs - spent));
  }

  int64_t first_close = -1, last_close = -1;
  for (size_t i = 0; i < clients.size(); ++i) {
    const Slow& c = clients[i];
    bool silent = i >= static_cast<size_t>(slow_count);
    SCOPED_TRACE((silent ? "silent client " : "slow client ") + std::to_string(i));
    ASSERT_GE(c.closed_ms, 0) << "still open after " << bb::ms_since(start) << " ms";
    // Never before the timeout; at the latest one tick (plus scheduling slack) after it, and
    // after the defer period for a silent client.
    EXPECT_GE(c.closed_ms, kHeaderTimeoutMs - 100);
    EXPECT_LE(c.closed_ms, kHeaderTimeoutMs + (silent ? kDeferAcceptMs : 0) + kTickMs + 1000);
    if (silent) {
      EXPECT_EQ(c.received, "") << "a client that sent nothing gets nothing";
    } else {
      auto responses = bb::parse_all(c.received);
      ASSERT_EQ(responses.size(), 1u) << c.received;
      EXPECT_EQ(responses[0].status, 408);
      EXPECT_EQ(responses[0].header("connection"), "close");
    }
    if (first_close < 0 || c.closed_ms < first_close) first_close = c.closed_ms;
    last_close = std::max(last_close, c.closed_ms);
    ::close(c.fd);
  }
  EXPECT_EQ(good_gets, gets) << "normal requests during the attack";
  EXPECT_LT(worst_get_ms, 1000) << "slowest normal request during the attack";
  bb::figure("slowloris: " + std::to_string(slow_count) + " slow + " +
             std::to_string(silent_count) + " silent clients, --header-timeout 2s: closed after " +
             std::to_string(first_close) + ".." + std::to_string(last_close) + " ms; " +
             std::to_string(good_gets) + "/" + std::to_string(gets) +
             " normal GETs meanwhile got 200, slowest " + std::to_string(worst_get_ms) + " ms");
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

}  // namespace
