#include "connection.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "access_log.hpp"

namespace hs {

namespace {

// The most one sendfile() call moves (Linux moves at most 0x7ffff000 bytes per call).
constexpr uint64_t kMaxSendBytes = 0x7ffff000;

// Files up to this size are sent with their head held back (MSG_MORE) to share its segment.
constexpr uint64_t kCorkedFileBytes = 64 * 1024;

}  // namespace

Connection::Connection(ConnectionShared& shared, UniqueFd fd, const sockaddr_storage& peer)
    : shared_(shared), fd_(std::move(fd)), slot_(fd_.get()), exchange_(shared.exchange, *this) {
  ++shared_.exchange.worker.stats.accepted;
  enter(State::reading, limits().header_timeout_ms);
  if (shared_.exchange.settings.access_log) {
    char name[64];
    exchange_.set_remote(peer_name(peer, name));
  }
}

void Connection::start(bool read_first) noexcept {
  if (read_first) {
    // The request is most likely in the socket already: serve it now rather than register
    // and wait for the epoll_wait that would report it. A connection answered and closed here
    // (Connection: close) never costs an epoll_ctl. If the read finds nothing (a silent client
    // handed over after the defer period) it costs one read, and the registration below
    // reports what comes later.
    peer_ = Peer::readable;
    serve();
    if (closed()) return;
  }
  // Edge-triggered for both directions: registered once, never modified. Backpressure is
  // "do not read", not an epoll_ctl call. Registering checks readiness as it is now, so an
  // edge that came during the round above is not lost.
  uint32_t events = kReadable | kWritable | kReadHangup | kEdgeTriggered;
  if (shared_.reactor.add(fd_.get(), events, this) != 0) close();
}

Connection::~Connection() {
  unlink();
  if (fd_) {
    shared_.reactor.forget(fd_.get());
    fd_.reset();
  }
}

Connection& Connection::from_link(ListLink* link) noexcept {
  return *static_cast<Connection*>(link);
}

void Connection::enter(State state, uint64_t timeout_ms) noexcept {
  state_ = state;
  deadline_ms_ = shared_.reactor.now_ms() + timeout_ms;
  if (has_deadline(state))
    shared_.deadlines[static_cast<size_t>(state)].push_back(*this);
  else
    unlink();  // no deadline: out of every list
}

void Connection::on_io(uint32_t events) noexcept {
  if (closed()) return;
  if (events & kIoError) {  // reset by the peer, or a failed send: nothing can be delivered
    close();
    return;
  }
  if ((state_ == State::streaming || state_ == State::awaiting) &&
      (events & (kReadHangup | kHangup))) {
    // The client finished sending while a response streams or is deferred: it went away (a
    // half-closed client waiting on either is not told apart; it loses the response).
    close();
    return;
  }
  if (peer_ != Peer::gone) {
    if (events & (kReadHangup | kHangup))
      peer_ = Peer::shut;
    else if ((events & kReadable) && peer_ == Peer::drained)
      peer_ = Peer::readable;
  }
  if (state_ == State::lingering) {
    discard_input();
    return;
  }
  if ((events & kWritable) && exchange_.output_pending()) {
    if (!write_out()) return;
  }
  serve();
}

void Connection::wake() noexcept {
  if (!closed()) serve();
}

void Connection::wake_soon() noexcept {
  if (closed() || woken_) return;
  try {
    shared_.woken.push_back(this);
    woken_ = true;
  } catch (const std::bad_alloc&) {
    close();
  }
}

void Connection::run_woken() noexcept {
  woken_ = false;
  if (!closed()) serve();
}

// One round after another while there is work: the exchange answers, reads bring more,
// writes drain the output; all the responses to a batch of pipelined requests leave in one
// write.
void Connection::serve() noexcept {
  for (;;) {
    exchange_.advance();
    if (exchange_.broken()) return close();
    if (exchange_.takes_input() && unread_input()) {
      if (read_some()) continue;
      if (closed()) return;
    }
    if (!write_out()) return;
    if (exchange_.backpressured() || exchange_.tail()) break;
    // Output drained below the high-water mark: go on with a stream that can produce more,
    // or with parsed requests still waiting. Reading stopped at the high-water mark with
    // bytes still in the kernel: edge-triggered epoll will not report them again, so read on.
    if (!exchange_.more_to_do() && !(exchange_.takes_input() && unread_input()) &&
        !exchange_.deferred_sent())
      break;
  }
  settle();
}

bool Connection::read_some() noexcept {
  std::span<char> room = exchange_.read_room();
  if (room.empty()) {  // answered 413 or 431, or no memory
    if (exchange_.broken()) close();
    return false;
  }
  ssize_t n;
  do {
    n = ::read(fd_.get(), room.data(), room.size());
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    traffic().bytes_read += static_cast<uint64_t>(n);
    bool filled = static_cast<size_t>(n) == room.size();
    exchange_.received(static_cast<size_t>(n),
                       shared_.exchange.settings.time_requests ? monotonic_ns() : 0);
    // A short read means the socket is drained: skip the read that would only say EAGAIN.
    // Edge-triggered epoll reports bytes that arrive after this read as a new edge.
    // Not once the peer has shut down: its EOF came with this edge and no other edge follows.
    if (!filled && peer_ == Peer::readable) peer_ = Peer::drained;
    if (exchange_.in_body() && (state_ == State::reading || state_ == State::reading_body))
      enter(State::reading_body, limits().body_timeout_ms);  // progress re-arms
    return true;
  }
  if (n == 0) {
    peer_ = Peer::gone;
    exchange_.received_eof();
  } else {
    peer_ = Peer::drained;
    if (errno != EAGAIN) close();  // ECONNRESET and friends
  }
  return false;
}

bool Connection::write_out() noexcept {
  bool progressed = false;
  for (;;) {
    std::string_view out = exchange_.output();
    OutputTail* tail = exchange_.tail();
    if (out.empty()) {
      if (tail && !send_tail(*tail, progressed)) return false;
      break;
    }
    ssize_t n;
    uint64_t body = 0;
    size_t body_asked = 0;
    if (tail && tail->memory) {
      // The head and a body in memory in one call (sendmsg: writev has no MSG_NOSIGNAL).
      iovec iov[2] = {{const_cast<char*>(out.data()), out.size()},
                      {const_cast<char*>(tail->memory->data()) + tail->offset,
                       static_cast<size_t>(std::min(tail->left, kMaxSendBytes))}};
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2;
      body_asked = iov[1].iov_len;
      n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
      if (n > 0 && static_cast<size_t>(n) > out.size()) {  // into the body as well
        body = static_cast<size_t>(n) - out.size();
        n = static_cast<ssize_t>(out.size());
      }
    } else {
      // A small file follows: the head waits for its bytes rather than leave in a segment of
      // its own. Not before a large one, where holding the head back cost twice the CPU per
      // response (1 MiB files, measured against plain sends) for nothing.
      int more = tail && tail->left <= kCorkedFileBytes ? MSG_MORE : 0;
      n = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL | more);
    }
    if (n > 0) {
      traffic().bytes_written += static_cast<uint64_t>(n) + body;
      progressed = true;
      exchange_.sent(static_cast<size_t>(n), body, monotonic_ns());
      // A short write means the socket buffer is full: the next send would say EAGAIN.
      if (static_cast<size_t>(n) < out.size()) break;
      if (body < body_asked) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    close();  // EPIPE, ECONNRESET: the client is gone
    return false;
  }
  if (exchange_.output_pending() && (progressed || state_ != State::writing))
    enter(State::writing, limits().write_timeout_ms);
  return true;
}

// A body sent from where it lies, once the output before it is out: a file's range, or what
// the sendmsg above left of a body in memory.
bool Connection::send_tail(OutputTail& tail, bool& progressed) noexcept {
  while (exchange_.tail()) {
    size_t count = static_cast<size_t>(std::min(tail.left, kMaxSendBytes));
    ssize_t n;
    if (tail.file) {
      off_t offset = static_cast<off_t>(tail.offset);
      n = ::sendfile(fd_.get(), tail.file->fd(), &offset, count);
    } else {
      n = ::send(fd_.get(), tail.memory->data() + tail.offset, count, MSG_NOSIGNAL);
    }
    if (n > 0) {
      bool memory = !tail.file;
      traffic().bytes_written += static_cast<uint64_t>(n);
      progressed = true;
      exchange_.sent(0, static_cast<uint64_t>(n), monotonic_ns());  // may end the tail
      // Short from memory: the socket is full. From a file it may also have ended: ask again
      // (EAGAIN when full, 0 when shrunk).
      if (memory && static_cast<size_t>(n) < count) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    // 0: the file ends before the length the head announced; padding would be garbage and
    // another response would be read as the rest of this body. Or an error: either way the
    // client must see the connection end short.
    if (n == 0 && shared_.exchange.settings.error_log)
      shared_.exchange.settings.error_log->error("file shrank while it was sent: ",
                                                 "connection closed");
    close();
    return false;
  }
  return true;
}

// Decides what the connection waits for next, after a round of reading, parsing and writing.
void Connection::settle() noexcept {
  const Limits& l = limits();
  switch (exchange_.next()) {
    case Exchange::Next::write:
      if (state_ != State::writing) enter(State::writing, l.write_timeout_ms);
      return;
    case Exchange::Next::hand_over:
      return hand_off();          // the response is out
    case Exchange::Next::paused:  // the reader's resume brings us back
      if (state_ != State::paused) enter(State::paused, 0);
      return;
    case Exchange::Next::producer:  // waiting for the producer: its waker brings us back
      if (state_ != State::streaming) enter(State::streaming, 0);
      return;
    case Exchange::Next::deferred:  // its send() brings us back, or the response deadline
      if (state_ != State::awaiting) enter(State::awaiting, l.response_timeout_ms);
      return;
    case Exchange::Next::close:
      return close();
    case Exchange::Next::linger:
      if (peer_ == Peer::gone) return close();
      // Unread input may remain: closing now could reset the connection before the client
      // has read our answer. Stop sending, discard what comes, close at EOF or after a while.
      ::shutdown(fd_.get(), SHUT_WR);
      exchange_.release_buffers();
      enter(State::lingering, l.linger_timeout_ms);
      discard_input();
      return;
    case Exchange::Next::request:
      if (peer_ == Peer::gone) return close();  // everything the client sent is answered
      if (state_ != State::reading) enter(State::reading, l.header_timeout_ms);
      return;
    case Exchange::Next::body:
      if (peer_ == Peer::gone) return close();
      if (state_ != State::reading_body) enter(State::reading_body, l.body_timeout_ms);
      return;
    case Exchange::Next::fresh:
      if (peer_ == Peer::gone) return close();
      if (state_ != State::reading) enter(State::reading, l.header_timeout_ms);
      return;
    case Exchange::Next::idle:
      if (peer_ == Peer::gone) return close();
      enter(State::idle, l.idle_timeout_ms);
      return;
  }
}

void Connection::discard_input() noexcept {
  char sink[4096];
  for (;;) {
    ssize_t n = ::read(fd_.get(), sink, sizeof sink);
    if (n > 0) {
      traffic().bytes_read += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close();  // EOF or error: the client has everything we sent
    return;
  }
}

void Connection::on_timeout() noexcept {
  ++shared_.exchange.worker.stats.timeouts;
  TrafficStats::Timeouts& t = traffic().timeouts;
  // By State, in its order: the kinds of deadline.
  uint64_t* kinds[kDeadlineStates] = {&t.header, &t.body,   &t.idle,
                                      &t.write,  &t.linger, &t.response};
  if (has_deadline(state_)) ++*kinds[static_cast<size_t>(state_)];
  if (state_ == State::awaiting) {
    // The server answers for the deferred response (504) and the connection goes on.
    exchange_.deferred_timed_out();
    return serve();
  }
  // Bytes came but no complete request: tell the client why before closing (RFC 9110
  // section 15.5.9).
  exchange_.timed_out((state_ == State::reading && exchange_.in_head()) ||
                      state_ == State::reading_body);
  write_out();
  close();
}

void Connection::drain() noexcept {
  if (closed()) return;
  bool busy = exchange_.busy();
  // A request the client has sent but we have not read yet is in flight too.
  char byte;
  if (!busy && fd_ && ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1) busy = true;
  if (!busy || state_ == State::lingering) close();
}

// The response that handed the connection over is sent: the descriptor and what was read past
// the request go to the taker, and the connection ends without closing the descriptor.
void Connection::hand_off() noexcept {
  TakeOver take = exchange_.take_over();
  // The descriptor stays open, so the epoll set would keep it: remove it for real.
  shared_.reactor.remove(fd_.get());
  int fd = fd_.release();
  ++shared_.exchange.worker.stats.taken_over;
  Logger* log = shared_.exchange.settings.error_log;
  try {
    take(fd, exchange_.unparsed());  // in the exchange's buffer, released by close() below
  } catch (const std::exception& e) {
    if (log) log->error("take-over failed: ", e.what());
    ::close(fd);
  } catch (...) {
    if (log) log->error("take-over failed: ", "unknown exception");
    ::close(fd);
  }
  close();
}

void Connection::close() noexcept {
  if (closed()) return;
  enter(State::closed, 0);
  exchange_.close();
  // close() drops the descriptor from the epoll set: no epoll_ctl(DEL) needed.
  if (fd_) shared_.reactor.forget(fd_.get());
  fd_.reset();
  if (shared_.on_closed) shared_.on_closed(*this);
}

}  // namespace hs
