#include "test_server.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace hs::test {

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

TestServer::TestServer(ServerOptions options, Handler handler, Logger* log)
    : reactor_(std::make_unique<Reactor>()), log_(log) {
  // The log's owner flushes it on its loop: here, the test's reactor (before it runs).
  if (log_) log_->attach(*reactor_);
  server_ = std::make_unique<Server>(*reactor_, std::move(options), std::move(handler), log);
  port_ = server_->port();
  thread_ = std::thread([this] {
    reactor_->run();
    done_.set_value();
  });
}

bool TestServer::shutdown(int timeout_ms) {
  if (shut_down_) return true;
  std::promise<void> drained;
  auto future = drained.get_future();
  reactor_->post([this, &drained] { server_->shutdown([&drained] { drained.set_value(); }); });
  bool ok = future.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
  if (ok) shut_down_ = true;
  return ok;
}

TestServer::~TestServer() {
  reactor_->post([this] { reactor_->stop(); });
  thread_.join();
  server_.reset();
  if (log_) log_->detach();
}

Client::Client(uint16_t port, bool ipv6) {
  fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  timeval tv{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (ipv6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) close();
}

Client::~Client() { close(); }

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Client::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Client::fill(int timeout_ms) {
  if (eof_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return false;
  char chunk[65536];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffered_.append(chunk, static_cast<size_t>(n));
  return true;
}

ParsedResponse Client::read_response(int timeout_ms, bool head_request) {
  int64_t deadline = now_ms() + timeout_ms;
  ParsedResponse r;
  for (;;) {
    size_t used = parse_response(buffered_, r, head_request);
    if (used != 0) {
      buffered_.erase(0, used);
      return r;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0 || !fill(static_cast<int>(left))) {
      if (eof_ || left <= 0) return ParsedResponse{};
    }
  }
}

std::string Client::read_until_close(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (!eof_) {
    int64_t left = deadline - now_ms();
    if (left <= 0) break;
    fill(static_cast<int>(left));
  }
  return std::exchange(buffered_, std::string());
}

bool Client::closed_by_peer(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (!eof_) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    size_t before = buffered_.size();
    if (!fill(static_cast<int>(left)) && !eof_) return false;
    if (buffered_.size() != before && !eof_) continue;
  }
  return true;
}

size_t parse_response(std::string_view text, ParsedResponse& out, bool head_request) {
  size_t end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  ParsedResponse r;
  std::string_view head = text.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return 0;
  r.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  if (status_line.size() > 13) r.reason = std::string(status_line.substr(13));
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace(name, std::string(value));
    pos = next + 2;
  }
  size_t body_start = end + 4;
  size_t consumed = body_start;
  bool no_body = head_request || r.status / 100 == 1 || r.status == 204 || r.status == 304;
  if (!no_body && r.has("content-length")) {
    size_t length = std::stoul(r.header("content-length"));
    if (text.size() < body_start + length) return 0;
    r.body = std::string(text.substr(body_start, length));
    consumed = body_start + length;
  } else if (!no_body && r.header("transfer-encoding") == "chunked") {
    size_t p = body_start;
    for (;;) {
      size_t eol = text.find("\r\n", p);
      if (eol == std::string_view::npos) return 0;
      size_t size = std::stoul(std::string(text.substr(p, eol - p)), nullptr, 16);
      p = eol + 2;
      if (size == 0) {
        size_t trailer_end = text.find("\r\n", p);
        if (trailer_end == std::string_view::npos) return 0;
        consumed = trailer_end + 2;
        break;
      }
      if (text.size() < p + size + 2) return 0;
      r.body.append(text.substr(p, size));
      p += size + 2;
    }
  }
  r.raw = std::string(text.substr(0, consumed));
  out = std::move(r);
  return consumed;
}

ParsedResponse roundtrip(uint16_t port, std::string_view request, int timeout_ms) {
  Client client(port);
  if (!client.connected() || !client.send(request)) return {};
  return client.read_response(timeout_ms);
}

}  // namespace hs::test
