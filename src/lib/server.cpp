#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include <httpserver/server.hpp>

#include "connection.hpp"
#include "listener.hpp"
#include "serialize.hpp"
#include "unique_fd.hpp"

namespace hs {

namespace {

constexpr uint64_t kTickMs = 1000;

}  // namespace

class HS_LOCAL Server::Impl {
 public:
  Impl(Reactor& reactor, ServerOptions options, Handler handler, Logger* error_log);
  ~Impl();

  ServerStats stats() const noexcept;
  void shutdown(std::function<void()> done);

  Reactor& reactor_;
  ServerOptions options_;
  ConnectionShared shared_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // options.listen, then also_listen
  size_t count_ = 0;

 private:
  void accept(Accepted& client) noexcept;
  void refuse(int fd, bool first_bytes_in) noexcept;
  void closed(Connection& connection) noexcept;
  void tick() noexcept;
  void expire(List& list, uint64_t now) noexcept;
  void free_retired() noexcept;
  void run_woken() noexcept;
  void maybe_done() noexcept;

  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  std::vector<std::unique_ptr<Connection>> retired_;      // closed, freed before the sleep
  uint64_t refused_ = 0;
  std::string refusal_;  // the 503, serialized again for each refused client
  Reactor::TimerId tick_timer_ = 0;
  Reactor::TimerId shutdown_timer_ = 0;
  std::function<void()> on_done_;
  Reactor::HookId before_sleep_ = 0;
};

Server::Server(Reactor& reactor, ServerOptions options, Handler handler, Logger* error_log)
    : impl_(std::make_unique<Impl>(reactor, std::move(options), std::move(handler), error_log)) {}

Server::~Server() = default;

uint16_t Server::port() const noexcept { return impl_->listeners_.front()->port(); }
const std::string& Server::address() const noexcept { return impl_->listeners_.front()->name(); }
std::vector<std::string> Server::addresses() const {
  std::vector<std::string> names;
  for (auto& l : impl_->listeners_) names.push_back(l->name());
  return names;
}
size_t Server::connections() const noexcept { return impl_->count_; }
ServerStats Server::stats() const noexcept { return impl_->stats(); }
const ServerOptions& Server::options() const noexcept { return impl_->options_; }
void Server::shutdown(std::function<void()> done) { impl_->shutdown(std::move(done)); }
bool Server::shutting_down() const noexcept { return impl_->shared_.exchange.worker.draining; }

Server::Impl::Impl(Reactor& reactor, ServerOptions options, Handler handler, Logger* error_log)
    : reactor_(reactor),
      options_(std::move(options)),
      shared_(reactor, options_.limits, std::move(handler), error_log, options_.server_name) {
  shared_.on_closed = [this](Connection& c) { closed(c); };
  shared_.exchange.settings.stream_body = options_.stream_body;
  shared_.exchange.worker.codec_rules.head_first =
      static_cast<bool>(shared_.exchange.settings.stream_body);
  shared_.exchange.settings.time_requests = options_.time_requests || options_.access_log;
  if (options_.access_log && error_log) shared_.exchange.settings.access_log = error_log;
  if (options_.access_log || options_.echo_request_id)
    shared_.exchange.worker.ids = std::make_unique<RequestIds>();
  shared_.exchange.settings.echo_request_id = options_.echo_request_id;
  if (options_.echo_request_id) {
    // Before the handler, which may set its own.
    shared_.exchange.settings.handler = [next = std::move(shared_.exchange.settings.handler)](
                                            const Request& q, Response& r) {
      r.set_header("X-Request-Id", q.request_id());
      next(q, r);
    };
  }
  // Sockets handed over (ListenerOptions::fd) are ours from here on, even if another fails.
  std::vector<UniqueFd> handed_over;
  handed_over.emplace_back(options_.listen.fd);
  for (auto& l : options_.also_listen) handed_over.emplace_back(l.fd);
  size_t i = 0;
  auto add = [&](ListenerOptions& l) {
    l.fd = handed_over[i++].release();
    listeners_.push_back(
        std::make_unique<Listener>(reactor_, l, [this](Accepted& client) { accept(client); }));
  };
  add(options_.listen);
  for (auto& l : options_.also_listen) add(l);
  // Before each sleep: free the connections closed during this iteration.
  // Before each sleep: the connections whose deferred response was sent (see
  // ExchangeHost::wake_soon), then free the connections closed during this iteration.
  before_sleep_ = reactor_.add_before_sleep([this] {
    run_woken();
    free_retired();
  });
}

Server::Impl::~Impl() {
  reactor_.remove_before_sleep(before_sleep_);
  if (tick_timer_) reactor_.cancel_timer(tick_timer_);
  if (shutdown_timer_) reactor_.cancel_timer(shutdown_timer_);
  shared_.on_closed = nullptr;
  connections_.clear();  // their destructors unregister and close the descriptors
  retired_.clear();
}

ServerStats Server::Impl::stats() const noexcept {
  ServerStats s;
  static_cast<ConnectionStats&>(s) = shared_.exchange.worker.stats;
  s.refused = refused_;
  for (auto& l : listeners_) s.shed += l->shed();
  s.connections = count_;
  return s;
}

void Server::Impl::accept(Accepted& client) noexcept {
  if (shared_.exchange.worker.draining) return;  // the listener closes it
  if (count_ >= options_.max_connections) return refuse(client.fd.get(), client.first_bytes_in);
  size_t index = static_cast<size_t>(client.fd.get());
  Connection* connection;
  try {
    if (index >= connections_.size()) connections_.resize(index + 1 + connections_.size() / 2);
    connections_[index] = std::make_unique<Connection>(shared_, std::move(client.fd), client.peer);
    connection = connections_[index].get();
  } catch (const std::bad_alloc&) {
    return;  // the descriptor closes with the failed connection
  }
  ++count_;
  // Counted and in its slot first: it may be answered and closed (closed()) before it returns.
  connection->start(client.first_bytes_in);
  // Still freed only before the sleep (retired_), so still there to ask. One answered and
  // closed at once needs no deadline checked.
  if (!connection->closed() && tick_timer_ == 0)
    tick_timer_ = reactor_.add_timer(kTickMs, kTickMs, [this] { tick(); });
}

void Server::Impl::refuse(int fd, bool first_bytes_in) noexcept {
  ++refused_;
  // An answer like any other (Date, Server), sent without reading the request: one try,
  // never blocking; the client may be gone already.
  Response& response = shared_.exchange.scratch.response;
  response.clear();
  response.status = 503;
  try {
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.set_header("Retry-After", "1");
    response.body.assign("503 Service Unavailable\n");
    refusal_.clear();
    serialize(response,
              {shared_.exchange.worker.date.now(), shared_.exchange.settings.server_name, "GET",
               true, false},
              refusal_);
  } catch (const std::bad_alloc&) {
    return;
  }
  ssize_t n = ::send(fd, refusal_.data(), refusal_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n > 0) shared_.exchange.worker.stats.traffic.bytes_written += static_cast<uint64_t>(n);
  // Handed over with its request already in (deferred accept): closed unread, the socket
  // would send a reset, which can destroy the 503 before the client reads it. Read what is
  // there (one try, never blocking) so that the close is an orderly one.
  if (first_bytes_in) {
    char request[4096];
    ::recv(fd, request, sizeof request, MSG_DONTWAIT);
  }
}

void Server::Impl::closed(Connection& connection) noexcept {
  auto& slot = connections_[static_cast<size_t>(connection.slot())];
  // Freed before the reactor sleeps, once the callback that closed it has returned.
  retired_.push_back(std::move(slot));
  --count_;
  maybe_done();
}

void Server::Impl::free_retired() noexcept { retired_.clear(); }

void Server::Impl::run_woken() noexcept {
  // A round may wake others (a handler that sends another connection's deferred response).
  for (size_t i = 0; i < shared_.woken.size(); ++i) shared_.woken[i]->run_woken();
  shared_.woken.clear();
}

void Server::Impl::expire(List& list, uint64_t now) noexcept {
  while (ListLink* link = list.front()) {
    Connection& c = Connection::from_link(link);
    if (c.deadline_ms() > now) break;  // the list is ordered: the rest are later
    c.on_timeout();
  }
}

void Server::Impl::tick() noexcept {
  uint64_t now = reactor_.now_ms();
  for (List& list : shared_.deadlines) expire(list, now);
  if (count_ == 0 && tick_timer_ != 0) {
    reactor_.cancel_timer(tick_timer_);
    tick_timer_ = 0;
  }
}

void Server::Impl::shutdown(std::function<void()> done) {
  if (shared_.exchange.worker.draining) return;
  shared_.exchange.worker.draining = true;
  on_done_ = std::move(done);
  for (auto& l : listeners_) l->close();
  for (auto& c : connections_)
    if (c) c->drain();
  if (count_ != 0) {
    shutdown_timer_ = reactor_.add_timer(options_.shutdown_timeout_ms, 0, [this] {
      shutdown_timer_ = 0;
      for (auto& c : connections_)
        if (c) c->close();
    });
  }
  maybe_done();
}

void Server::Impl::maybe_done() noexcept {
  if (!shared_.exchange.worker.draining || count_ != 0 || !on_done_) return;
  if (shutdown_timer_) {
    reactor_.cancel_timer(shutdown_timer_);
    shutdown_timer_ = 0;
  }
  auto done = std::move(on_done_);
  on_done_ = nullptr;
  done();
}

}  // namespace hs
