// Connection limits: more clients than --max-connections, and more than the server has
// descriptors for. Clients over the limit are refused (503, closed), clients over the
// descriptor limit are shed (accepted and closed), and in neither state may the server spin:
// its CPU time while saturated stays near zero. Once the clients leave it serves again.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.hpp"

namespace {

// The listener defers accept: a client that sends nothing, as these do, is handed over only
// after the kernel's one SYN-ACK retransmission (1 s). Until then it is neither counted nor
// refused, so the outcome settles only once this much has passed without a change.
constexpr int kQuietMs = 2000;

// A busy loop would burn most of a core; an idle epoll server with a 1 s tick burns nothing.
constexpr double kIdleCpuLimit = 0.2;  // seconds over 2 s of wall time

struct Outcome {
  int open = 0;     // connected, nothing received, not closed
  int refused = 0;  // a 503, then closed
  int shed = 0;     // closed with nothing received
  int other = 0;    // anything else
  std::string example_other;
};

// Opens `count` connections at once (non-blocking), waits until every connect has finished.
std::vector<int> open_many(uint16_t port, int count) {
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    int fd = bb::connect_nonblocking(port);
    if (fd >= 0) fds.push_back(fd);
  }
  auto start = bb::Clock::now();
  std::vector<pollfd> pending;
  for (int fd : fds) pending.push_back({fd, POLLOUT, 0});
  while (!pending.empty() && bb::ms_since(start) < 10000) {
    ::poll(pending.data(), pending.size(), 100);
    std::vector<pollfd> still;
    for (auto& p : pending)
      if (p.revents == 0) still.push_back({p.fd, POLLOUT, 0});
    pending.swap(still);
  }
  return fds;
}

// Reads what each connection got until the classification stops changing for `quiet_ms`
// (or `timeout_ms` passes).
Outcome classify(const std::vector<int>& fds, int quiet_ms, int timeout_ms) {
  std::vector<std::string> got(fds.size());
  std::vector<bool> closed(fds.size(), false);
  auto start = bb::Clock::now();
  auto last_change = start;
  while (bb::ms_since(start) < timeout_ms && bb::ms_since(last_change) < quiet_ms) {
    std::vector<pollfd> ps;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (closed[i]) continue;
      ps.push_back({fds[i], POLLIN, 0});
      index.push_back(i);
    }
    if (ps.empty()) break;
    if (::poll(ps.data(), ps.size(), 50) <= 0) continue;
    for (size_t k = 0; k < ps.size(); ++k) {
      if (ps[k].revents == 0) continue;
      size_t i = index[k];
      char buffer[4096];
      ssize_t n = ::recv(fds[i], buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        got[i].append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        closed[i] = true;
      }
      last_change = bb::Clock::now();
    }
  }
  Outcome o;
  for (size_t i = 0; i < fds.size(); ++i) {
    auto responses = bb::parse_all(got[i]);
    if (!closed[i] && got[i].empty()) {
      ++o.open;
    } else if (closed[i] && got[i].empty()) {
      ++o.shed;
    } else if (closed[i] && responses.size() == 1 && responses[0].status == 503) {
      ++o.refused;
    } else {
      ++o.other;
      if (o.example_other.empty()) o.example_other = got[i].substr(0, 200);
    }
  }
  return o;
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

TEST(ConnectionLimits, ExcessConnectionsGet503AndTheSaturatedServerIdles) {
  const int max_connections = hostile::pick(500, 2000);
  const int clients = hostile::pick(2000, 10000);
  ASSERT_GE(bb::raise_nofile(static_cast<rlim_t>(clients + 200)),
            static_cast<rlim_t>(clients + 200))
      << "this test needs more descriptors than RLIMIT_NOFILE allows";
  // Idle connections must outlive the test: --header-timeout 60s.
  auto server = hostile::start(
      {"--max-connections", std::to_string(max_connections), "--header-timeout", "60s"},
      static_cast<rlim_t>(clients + 1000));
  ASSERT_TRUE(server);
  EXPECT_EQ(bb::nofile_limit(server->pid()), clients + 1000);
  const int baseline = server->settled_fds();

  auto start = bb::Clock::now();
  std::vector<int> fds = open_many(server->port(), clients);
  ASSERT_EQ(fds.size(), static_cast<size_t>(clients));
  Outcome o = classify(fds, kQuietMs, 10000);
  int64_t settle_ms = bb::ms_since(start);
  EXPECT_EQ(o.open, max_connections);
  EXPECT_EQ(o.refused, clients - max_connections);
  EXPECT_EQ(o.shed, 0);
  EXPECT_EQ(o.other, 0) << o.example_other;

  // Saturated: max_connections idle clients held open. Nothing to do: no CPU.
  double cpu = hostile::cpu_over(server->pid(), 2000);
  bb::figure("max-connections " + std::to_string(max_connections) + ", " + std::to_string(clients) +
             " clients: " + std::to_string(o.open) + " held, " + std::to_string(o.refused) +
             " got 503, in " + std::to_string(settle_ms) + " ms; server CPU while saturated " +
             std::to_string(cpu) + " s over 2 s");
  EXPECT_LT(cpu, kIdleCpuLimit);

  // One more while saturated: refused at once, not queued.
  int64_t ms = 0;
  EXPECT_EQ(bb::plain_get(server->port(), 1000, &ms), 503);
  EXPECT_LT(ms, 1000);

  close_all(fds);
  hostile::expect_prompt_200(*server);
  hostile::expect_fds_back(*server, baseline);
}

TEST(ConnectionLimits, RunningOutOfDescriptorsShedsClientsWithoutSpinning) {
  constexpr rlim_t kServerFds = 64;
  const int clients = 100;
  const int rounds = hostile::pick(2, 10);
  auto server = hostile::start({"--header-timeout", "60s"}, kServerFds);
  ASSERT_TRUE(server);
  EXPECT_EQ(bb::nofile_limit(server->pid()), static_cast<long>(kServerFds));
  // A kept-alive request first, whose connection the reactor then wakes (the client's end):
  // a sanitizer build has then checked a connection's type once while it could. UBSan's vptr
  // check reads an object of a type it has not seen yet through a pipe, which it cannot open
  // once the server is out of descriptors, and reports a false "invalid vptr". With deferred
  // accept, a connection is served before it is registered, so its first wakeup could
  // otherwise come only during the attack.
  {
    int fd = bb::connect_to(server->port());
    ASSERT_GE(fd, 0);
    bb::Exchange x = bb::exchange(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 300);
    ::close(fd);
    ASSERT_EQ(x.received.rfind("HTTP/1.1 200 ", 0), 0u) << x.received;
  }
  const int baseline = server->settled_fds();

  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<int> fds = open_many(server->port(), clients);
    ASSERT_EQ(fds.size(), static_cast<size_t>(clients));
    Outcome o = classify(fds, kQuietMs, 5000);
    // Out of descriptors: the server holds what it can and sheds the rest.
    double cpu = hostile::cpu_over(server->pid(), 2000);
    int server_fds = bb::open_fds(server->pid());
    bb::figure("fd exhaustion (RLIMIT_NOFILE " + std::to_string(kServerFds) + ", " +
               std::to_string(clients) + " clients), round " + std::to_string(round) + ": " +
               std::to_string(o.open) + " held, " + std::to_string(o.shed) + " shed, " +
               std::to_string(o.refused) + " refused; server fds " + std::to_string(server_fds) +
               "; server CPU " + std::to_string(cpu) + " s over 2 s");
    EXPECT_LT(cpu, kIdleCpuLimit) << "the server spins while out of descriptors";
    EXPECT_LE(o.open, static_cast<int>(kServerFds));
    EXPECT_GT(o.shed + o.refused, 0) << "100 clients, 64 descriptors: someone must be turned away";
    EXPECT_EQ(o.other, 0) << o.example_other;
    EXPECT_TRUE(server->running()) << server->output();
    close_all(fds);
    hostile::expect_prompt_200(*server);
  }
  hostile::expect_fds_back(*server, baseline);
}

}  // namespace
