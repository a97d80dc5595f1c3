// Oversized and garbage input: a 1 MiB request-target, a 10 MiB header section, random
// binary. Each gets its 4xx and a close as soon as the limit is passed, without the server
// holding the flood in memory. The client goes on sending after the answer, as a flood would:
// the server discards what comes (lingering) and closes.
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "hostile.hpp"

namespace {

// The read buffer may grow to target + header + body limits (about 1 MiB by default); a
// server that buffered a 10 MiB flood would go far past this.
constexpr long kRssLimitKib = 32 * 1024;

struct Flooded {
  bb::Exchange x;
  std::vector<bb::ParsedResponse> responses;
  long peak_kib = 0;
  long first_kib = 0;
};

Flooded flood(bb::ServerProcess& server, const std::string& bytes, int timeout_ms) {
  Flooded f;
  hostile::RssSampler rss(server.pid());
  int fd = bb::connect_to(server.port());
  if (fd < 0) {
    ADD_FAILURE() << "cannot connect";
    return f;
  }
  f.x = bb::exchange(fd, bytes, timeout_ms, /*send_after_eof=*/true);
  ::close(fd);
  rss.stop();
  f.peak_kib = rss.peak_kib();
  f.first_kib = rss.first_kib();
  f.responses = bb::parse_all(f.x.received);
  return f;
}

std::string describe(const Flooded& f) {
  return std::to_string(f.x.sent / 1024) + " KiB sent in " + std::to_string(f.x.ms) + " ms (" +
         (f.x.reset ? "then reset" : "all taken") + "); server VmRSS " +
         std::to_string(f.first_kib) + " KiB before, peak " + std::to_string(f.peak_kib) + " KiB";
}

TEST(Oversized, MegabyteRequestTargetGets414AndClose) {
  auto server = hostile::start({});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  std::string request = "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  Flooded f = flood(*server, request, 10000);
  bb::figure("1 MiB request-target: " + describe(f));
  ASSERT_EQ(f.responses.size(), 1u) << f.x.received.substr(0, 300);
  EXPECT_EQ(f.responses[0].status, 414);
  EXPECT_EQ(f.responses[0].header("connection"), "close");
  EXPECT_TRUE(f.x.peer_closed);
  EXPECT_LT(f.peak_kib, kRssLimitKib);
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

TEST(Oversized, TenMegabyteHeaderFloodGets431AndCloseWithoutBuffering) {
  auto server = hostile::start({});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  const size_t total = hostile::pick<size_t>(10, 100) << 20;
  std::string request = "GET / HTTP/1.1\r\nHost: a\r\n";
  request.reserve(total + 128);
  for (int i = 0; request.size() < total; ++i)
    request += "X-Flood-" + std::to_string(i) + ": " + std::string(64, 'v') + "\r\n";
  request += "\r\n";
  Flooded f = flood(*server, request, 15000);
  bb::figure(std::to_string(total >> 20) + " MiB header flood: " + describe(f));
  ASSERT_EQ(f.responses.size(), 1u) << f.x.received.substr(0, 300);
  EXPECT_EQ(f.responses[0].status, 431);
  EXPECT_EQ(f.responses[0].header("connection"), "close");
  EXPECT_TRUE(f.x.peer_closed);
  EXPECT_LT(f.peak_kib, kRssLimitKib);
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

std::string random_bytes(uint32_t seed, size_t size) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST(Oversized, RandomBinaryFloodGets400AndClose) {
  auto server = hostile::start({});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  const uint32_t seeds = hostile::pick(3u, 20u);
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Flooded f = flood(*server, random_bytes(seed, 1 << 20), 10000);
    bb::figure("random flood, seed " + std::to_string(seed) + ": " + describe(f) + "; status " +
               (f.responses.empty() ? "none" : std::to_string(f.responses[0].status)));
    ASSERT_EQ(f.responses.size(), 1u) << f.x.received.substr(0, 300);
    EXPECT_EQ(f.responses[0].status, 400) << "random bytes are not a request-line";
    EXPECT_TRUE(f.x.peer_closed);
    EXPECT_LT(f.peak_kib, kRssLimitKib);
  }
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

TEST(Oversized, RandomBinaryAfterAValidRequestLineGets400AndClose) {
  auto server = hostile::start({});
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  const uint32_t seeds = hostile::pick(3u, 20u);
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::string junk = random_bytes(seed, 1 << 20);
    junk[0] = 'X';  // not an empty line: the head must not end before the junk
    Flooded f = flood(*server, "GET / HTTP/1.1\r\nHost: a\r\n" + junk, 10000);
    bb::figure("random fields, seed " + std::to_string(seed) + ": " + describe(f));
    ASSERT_EQ(f.responses.size(), 1u) << f.x.received.substr(0, 300);
    EXPECT_EQ(f.responses[0].status, 400);
    EXPECT_TRUE(f.x.peer_closed);
    EXPECT_LT(f.peak_kib, kRssLimitKib);
  }
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

}  // namespace
