// Oversized and garbage input: a 1 MiB request-target, a 10 MiB header section, random
// binary, a thousand endless chunk extensions. Each gets its 4xx and a close as soon as the limit
// is passed, without the server holding the flood in memory. The client goes on sending after the
// answer, as a flood would: the server discards what comes (lingering) and closes.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

// A thousand clients each start a chunked body with an extension that never ends (Node's
// CVE-2024-22019 shape). Each is answered 413 once its chunk-size line passes
// Limits::max_chunk_line_bytes (1 KiB), not when the line ends; and what they go on sending
// is scanned or discarded, never held: the server's memory does not grow with it.
TEST(Oversized, EndlessChunkExtensionsAreAnsweredAtTheBoundWithFlatMemory) {
  const size_t clients = hostile::pick<size_t>(1000, 4000);
  const size_t more_kib = hostile::pick<size_t>(16, 64);  // sent by each after its answer
  ASSERT_GE(bb::raise_nofile(static_cast<rlim_t>(clients + 200)), clients + 200);
  auto server = hostile::start({}, static_cast<rlim_t>(clients + 1000));
  ASSERT_TRUE(server);
  const int baseline = server->settled_fds();
  hostile::RssSampler rss(server->pid());
  const long before_kib = bb::rss_kib(server->pid());

  // 2 KiB of extension each: past the 1 KiB bound, with no CR.
  const std::string start =
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(2048, 'x');
  std::vector<int> fds;
  for (size_t i = 0; i < clients; ++i) {
    int fd = bb::connect_to(server->port());
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
    ASSERT_EQ(::send(fd, start.data(), start.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(start.size()));
  }

  // Every client gets its 413, within 10 s for all of them.
  std::vector<std::string> got(clients);
  size_t answered = 0;
  auto t0 = bb::Clock::now();
  while (answered < clients && bb::ms_since(t0) < 10'000) {
    std::vector<pollfd> waiting;
    for (size_t i = 0; i < clients; ++i)
      if (got[i].find("\r\n\r\n") == std::string::npos) waiting.push_back({fds[i], POLLIN, 0});
    if (::poll(waiting.data(), waiting.size(), 100) <= 0) continue;
    for (const pollfd& p : waiting) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t i = static_cast<size_t>(std::find(fds.begin(), fds.end(), p.fd) - fds.begin());
      char buf[1024];
      ssize_t n = ::recv(p.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) got[i].append(buf, static_cast<size_t>(n));
      if (got[i].find("\r\n\r\n") != std::string::npos) ++answered;
    }
  }
  const int64_t answer_ms = bb::ms_since(t0);
  const long answered_kib = bb::rss_kib(server->pid());
  size_t status_413 = 0;
  for (const std::string& g : got) status_413 += g.rfind("HTTP/1.1 413 ", 0) == 0;
  EXPECT_EQ(status_413, clients) << "first answer: " << got[0].substr(0, 200);

  // They go on sending; the server discards it (lingering) or has closed.
  const std::string more(1024, 'x');
  size_t sent_more = 0;
  for (size_t k = 0; k < more_kib; ++k) {
    for (int fd : fds) {
      ssize_t n = ::send(fd, more.data(), more.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent_more += static_cast<size_t>(n);
    }
  }
  bb::sleep_ms(200);  // let it read what was sent
  const long after_kib = bb::rss_kib(server->pid());
  rss.stop();
  for (int fd : fds) ::close(fd);

  bb::figure(std::to_string(clients) + " endless chunk extensions: all answered 413 in " +
             std::to_string(answer_ms) + " ms; server VmRSS " + std::to_string(before_kib) +
             " KiB before, " + std::to_string(answered_kib) + " KiB once all were answered, " +
             std::to_string(after_kib) + " KiB after " + std::to_string(sent_more >> 10) +
             " KiB more of extension, peak " + std::to_string(rss.peak_kib()) + " KiB");
  EXPECT_GT(sent_more, clients * 4 * 1024) << "the clients could not send enough to tell";
  if (hostile::memory_is_measurable()) {
    // Each answered connection holds at most its pooled read buffer and its state: a few KiB.
    EXPECT_LT(answered_kib - before_kib, static_cast<long>(clients) * 8);
    // What they sent after the answer costs nothing: flat within 1 MiB while they sent MiBs.
    EXPECT_LT(after_kib - answered_kib, 1024);
  }
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline, 5000);
}

}  // namespace
