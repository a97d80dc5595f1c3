// Graceful shutdown under load: client threads run keep-alive request loops while the server
// gets SIGTERM. Every response that began (a status line arrived) must be complete, requests
// already sent are answered (with "Connection: close") rather than dropped, the process must
// exit 0 within --shutdown-timeout, and afterwards nothing listens.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

#include "hostile.hpp"

namespace {

constexpr int kShutdownTimeoutMs = 3000;

struct Counts {
  int complete = 0;       // whole responses
  int said_close = 0;     // of those, with "Connection: close"
  int incomplete = 0;     // a status line arrived, then the connection ended mid-response
  int closed_idle = 0;    // the server had closed before our request went out
  int unanswered = 0;     // our request went out, then the connection ended without a reply
  int not_connected = 0;  // connect refused or timed out (after the listener closed)
  int bad_status = 0;     // a response other than 200
  std::string example;    // first incomplete or bad response
};

// One client: keep-alive GETs on a connection, a new connection when it closes, until
// `stop_at` has passed.
void client_loop(uint16_t port, bb::Clock::time_point stop_at, Counts& counts) {
  const std::string request = "GET /load HTTP/1.1\r\nHost: a\r\n\r\n";
  // Bounded by stop_at; every wait inside is bounded too.
  while (bb::Clock::now() < stop_at) {
    int fd = bb::connect_to(port, 500);
    if (fd < 0) {
      ++counts.not_connected;
      bb::sleep_ms(20);
      continue;
    }
    std::string buffer;
    bool open = true;
    while (open && bb::Clock::now() < stop_at) {
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size())) {
        // The server closed while we were idle: a retry on a new connection is the client's
        // job (RFC 9112 9.3.1).
        ++counts.closed_idle;
        break;
      }
      // Read one response, or until the connection ends.
      for (;;) {
        bb::ParsedResponse r;
        size_t used = hs::test::parse_response(buffer, r);
        if (used != 0) {
          buffer.erase(0, used);
          ++counts.complete;
          if (r.status != 200) {
            ++counts.bad_status;
            if (counts.example.empty()) counts.example = r.raw.substr(0, 300);
          }
          if (r.header("connection") == "close") {
            ++counts.said_close;
            open = false;
          }
          break;
        }
        pollfd p{fd, POLLIN, 0};
        char chunk[8192];
        ssize_t n = ::poll(&p, 1, 3000) == 1 ? ::recv(fd, chunk, sizeof chunk, 0) : -1;
        if (n > 0) {
          buffer.append(chunk, static_cast<size_t>(n));
          continue;
        }
        // EOF, reset or 3 s of silence: whatever began is now incomplete.
        if (buffer.empty()) {
          ++counts.unanswered;  // the request was sent; retrying it is the client's job
        } else {
          ++counts.incomplete;
          if (counts.example.empty()) counts.example = buffer.substr(0, 300);
        }
        open = false;
        break;
      }
    }
    ::close(fd);
  }
}

TEST(GracefulShutdown, SigtermUnderKeepAliveLoadCompletesEveryResponseAndExitsZero) {
  auto server = hostile::start({"--shutdown-timeout", std::to_string(kShutdownTimeoutMs) + "ms"});
  ASSERT_TRUE(server);
  const int threads = hostile::pick(4, 16);
  const int load_ms = hostile::pick(1000, 5000);
  std::vector<Counts> counts(static_cast<size_t>(threads));
  std::vector<std::thread> clients;
  auto stop_at = bb::Clock::now() + std::chrono::milliseconds(load_ms);
  for (auto& c : counts)
    clients.emplace_back([&server, stop_at, &c] { client_loop(server->port(), stop_at, c); });

  bb::sleep_ms(load_ms / 2);
  // Under load, before the signal: a normal client is still served promptly.
  hostile::expect_prompt_200(*server);
  ASSERT_TRUE(server->signal(SIGTERM));
  auto signalled = bb::Clock::now();
  std::optional<int> code = server->wait_exit(kShutdownTimeoutMs + 2000);
  int64_t exit_ms = bb::ms_since(signalled);
  for (auto& t : clients) t.join();

  Counts total;
  for (const auto& c : counts) {
    total.complete += c.complete;
    total.said_close += c.said_close;
    total.incomplete += c.incomplete;
    total.closed_idle += c.closed_idle;
    total.unanswered += c.unanswered;
    total.not_connected += c.not_connected;
    total.bad_status += c.bad_status;
    if (total.example.empty()) total.example = c.example;
  }
  bb::figure("graceful shutdown under load (" + std::to_string(threads) + " keep-alive clients, " +
             std::to_string(load_ms) + " ms): " + std::to_string(total.complete) +
             " complete responses, " + std::to_string(total.said_close) +
             " said Connection: close, " + std::to_string(total.incomplete) + " incomplete, " +
             std::to_string(total.closed_idle) + " closed before a request, " +
             std::to_string(total.unanswered) + " closed under a sent request, " +
             std::to_string(total.not_connected) + " connects refused after; exit " +
             (code ? std::to_string(*code) : std::string("none")) + " after " +
             std::to_string(exit_ms) + " ms (--shutdown-timeout " +
             std::to_string(kShutdownTimeoutMs) + "ms)");
  ASSERT_TRUE(code.has_value()) << "still running " << exit_ms << " ms after SIGTERM";
  EXPECT_EQ(*code, 0) << server->output();
  EXPECT_LE(exit_ms, kShutdownTimeoutMs + 500);
  EXPECT_EQ(total.incomplete, 0) << total.example;
  EXPECT_EQ(total.bad_status, 0) << total.example;
  EXPECT_GT(total.complete, 0);
  // Clients in a request loop nearly always have a request on its way when the signal comes:
  // requests in flight finish, and their responses say "Connection: close". A server that
  // closes every connection whose request it has not read yet drops one request on each
  // (retrying it is left to the client, and a client must not retry a POST).
  EXPECT_GT(total.said_close, 0) << total.unanswered
                                 << " connections were closed under a request already sent";
  int late = bb::connect_to(server->port(), 200);
  EXPECT_LT(late, 0) << "still listening after exit";
  if (late >= 0) ::close(late);
}

}  // namespace
