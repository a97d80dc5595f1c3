// Connection: one HTTP/1.1 client's socket, from accept to close.
//
// The socket side of a connection: reads with one read() per readiness until a short read,
// writes every response of a batch with one send() (sendfile for a file's range, one sendmsg
// for a head and a body in memory), registers with the reactor once, and keeps the deadline
// of the state it waits in. Everything HTTP is its Exchange's (exchange.hpp): the connection
// lends it the bytes it reads, sends what it produces, and waits for what it says comes next.
//
// Lifetime: created by the Server for an accepted descriptor, then start()ed: registered with
// the reactor edge-triggered for reading and writing once (no epoll_ctl afterwards), after a
// first round of serving when the request is likely in the socket already. A connection that
// closes itself calls ConnectionShared::on_closed from inside its own callback (or from
// start()); the owner must free it only after that call has returned.
//
// States and their deadlines (all connections in one state share a timeout, so each state's
// list is ordered by deadline):
//   reading    a request has begun, or none has been answered yet: header_timeout, from the
//              first byte (408 on expiry if any byte came, else a silent close)
//   reading_body  the head is complete, its body is arriving: body_timeout, re-armed by every
//              read that brings bytes (408 on expiry)
//   idle       between requests on a kept-alive connection: idle_timeout, silent close
//   writing    output the client is not reading fast enough: write_timeout, re-armed by progress
//   awaiting   a deferred response is not sent yet: response_timeout (504 on expiry)
//   streaming  a streamed response waits for its producer (Response::stream): no deadline,
//              the producer decides; once output is pending the connection is writing
//   paused     a body reader (Response::read_body) paused the body: nothing is read, no
//              deadline runs, the reader decides when to resume
//   lingering  after an error response: we stop reading requests and discard what the client
//              still sends, so that closing does not reset the connection before it has read
//              our answer; linger_timeout
//
// Threads: the reactor's thread only.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <vector>

#include <httpserver/reactor.hpp>

#include "exchange.hpp"
#include "exchange_shared.hpp"
#include "list.hpp"
#include "unique_fd.hpp"

namespace hs {

class Connection;

// What all connections of one reactor share. Owned by the Server.
struct ConnectionShared {
  ConnectionShared(Reactor& reactor, const Limits& limits, Handler handler, Logger* error_log,
                   std::string server_name)
      : reactor(reactor),
        exchange(reactor, limits, std::move(handler), error_log, std::move(server_name)) {
    woken.reserve(64);
  }

  Reactor& reactor;
  ExchangeShared exchange;
  // The connections in each state that has a deadline (Connection::State's first six), each
  // list ordered by deadline.
  List deadlines[6];
  // Connections whose deferred response was sent during this loop iteration: the server runs
  // them before the reactor sleeps (ExchangeHost::wake_soon).
  std::vector<Connection*> woken;
  std::function<void(Connection&)> on_closed;
};

// A Connection is the ListLink of its state's deadline list (as an h2o socket embeds its
// links), so the owner gets from a list entry back to the connection without a lookup.
class Connection final : public IoHandler, private ListLink, private ExchangeHost {
 public:
  // The states with a deadline come first, in the order of ConnectionShared::deadlines.
  enum class State {
    reading,
    reading_body,
    idle,
    writing,
    lingering,
    awaiting,
    streaming,
    paused,
    closed
  };
  static constexpr size_t kDeadlineStates = 6;
  static constexpr bool has_deadline(State s) noexcept {
    return static_cast<size_t>(s) < kDeadlineStates;
  }

  // Takes `fd`, accepted from `peer` (for the access log); start() registers it.
  Connection(ConnectionShared& shared, UniqueFd fd, const sockaddr_storage& peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the reactor; with `read_first` (the listener defers accept: the first
  // bytes have most likely arrived), serves what the socket holds first, and may close
  // (calling on_closed) before registering at all. Once, by the owner, after it has stored
  // the connection where on_closed finds it.
  void start(bool read_first) noexcept;

  void on_io(uint32_t events) noexcept override;

  // Called by the owner when the deadline of this connection's state has passed.
  void on_timeout() noexcept;
  // Graceful shutdown: closes an idle connection now; a busy one closes after the response
  // to the request in flight, which says "Connection: close".
  void drain() noexcept;
  // Closes at once; in-flight work is lost.
  void close() noexcept;
  // Runs the round a deferred response's send() asked for (wake_soon): from the server, before
  // the reactor sleeps.
  void run_woken() noexcept;

  State state() const noexcept { return state_; }
  bool closed() const noexcept { return state_ == State::closed; }
  int fd() const noexcept { return fd_.get(); }
  // The descriptor number it was created with, still known after close(): the owner's index.
  int slot() const noexcept { return slot_; }
  uint64_t deadline_ms() const noexcept { return deadline_ms_; }
  static Connection& from_link(ListLink* link) noexcept;

 private:
  // What the kernel may still hold of what the client sends.
  enum class Peer : uint8_t {
    drained,   // read to a short read: edge-triggered epoll reports what comes next
    readable,  // bytes may be waiting
    shut,      // the client shut down its side: read on to the EOF, no other edge follows
    gone,      // EOF read: the client will send nothing more
  };

  void wake() noexcept override;
  void wake_soon() noexcept override;
  void serve() noexcept;
  bool read_some() noexcept;  // false when there is nothing more to read now
  bool write_out() noexcept;  // false when the connection closed
  bool send_tail(OutputTail& tail, bool& progressed) noexcept;  // false when it closed
  void settle() noexcept;
  void enter(State state, uint64_t timeout_ms) noexcept;
  void hand_off() noexcept;
  void discard_input() noexcept;
  bool unread_input() const noexcept { return peer_ == Peer::readable || peer_ == Peer::shut; }
  const Limits& limits() const noexcept { return shared_.exchange.settings.limits; }
  TrafficStats& traffic() noexcept { return shared_.exchange.worker.stats.traffic; }

  ConnectionShared& shared_;
  UniqueFd fd_;
  int slot_;
  State state_ = State::reading;
  Peer peer_ = Peer::drained;
  bool woken_ = false;  // in shared_.woken
  uint64_t deadline_ms_ = 0;
  Exchange exchange_;
};

}  // namespace hs
