#include "connection.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <exception>
#include <string_view>

#include "message_access.hpp"

namespace hs {

namespace {

// A read buffer with less room than this is compacted (or grown) before the next read.
constexpr size_t kMinReadRoom = 1024;

// As many free codecs as the buffer pool keeps free read buffers.
constexpr size_t kMaxFreeCodecs = 1024;

// The most a streamed request body's read buffer grows to (see read_some()).
constexpr size_t kUploadReadBytes = 64 * 1024;

// The most one sendfile() call moves (Linux moves at most 0x7ffff000 bytes per call).
constexpr uint64_t kMaxSendfileBytes = 0x7ffff000;

constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

class Connection::Stream final : public BodyWriter {
 public:
  Stream(Connection& connection, BodyProducer producer, bool chunked)
      : connection(&connection), producer(std::move(producer)), chunked(chunked) {}

  void write(std::string_view data) override {
    if (connection == nullptr || ended || data.empty()) return;
    std::string& out = connection->out_;
    size_t before = out.size();
    if (chunked) {
      char size[24];
      auto n = std::to_chars(size, size + sizeof size, data.size(), 16).ptr - size;
      out.append(size, static_cast<size_t>(n)).append("\r\n");
      out.append(data).append("\r\n");
    } else {
      out.append(data);
    }
    bytes += out.size() - before;
    wrote = true;
  }
  void end() override {
    if (connection == nullptr || ended) return;
    ended = true;
    if (!chunked) return;
    connection->out_.append("0\r\n\r\n");
    bytes += 5;
  }
  bool ready() const override { return connection != nullptr && !connection->backpressured(); }
  std::function<void()> waker() override {
    std::weak_ptr<Stream> weak = self;
    return [weak] {
      if (auto stream = weak.lock(); stream && stream->connection)
        stream->connection->wake_stream();
    };
  }

  Connection* connection;  // null once the connection has closed
  BodyProducer producer;
  bool chunked;
  bool ended = false;
  bool wrote = false;  // the last call wrote something
  bool idle = false;   // the last call wrote nothing: wait for the waker
  uint64_t bytes = 0;  // of the body, as sent (chunk framing included)
  std::weak_ptr<Stream> self;
};

struct Connection::Upload {
  std::shared_ptr<BodyReader> reader;
  std::string method;  // the request's: its head is gone once the body streams
  // With the access log (or echoed ids): the head's fields its line needs, kept as a streamed
  // response's are.
  std::unique_ptr<PendingAccess> access;
  // What the reader's resumer reaches: this connection until the upload is over, then null.
  std::shared_ptr<Connection*> handle;
  bool paused = false;
  bool delivering = false;  // inside data(): a resume only cancels the pause to come
  bool resumed = false;
};

ConnectionShared::ConnectionShared(Reactor& r, const Limits& l, Handler h, Logger* log,
                                   std::string name)
    : reactor(r),
      limits(l),
      handler(std::move(h)),
      error_log(log),
      server_name(std::move(name)),
      pool(l.read_buffer_bytes, 64 * 1024, 1024) {
  codec_rules.max_header_bytes = l.max_header_bytes;
  codec_rules.max_target_bytes = l.max_target_bytes;
  codec_rules.max_body_bytes = l.max_body_bytes;
  codec_rules.max_chunk_line_bytes = l.max_chunk_line_bytes;
  codec_rules.max_chunk_extension_bytes = l.max_chunk_extension_bytes;
  free_codecs.reserve(kMaxFreeCodecs);
}

Connection::Connection(ConnectionShared& shared, UniqueFd fd)
    : shared_(shared), fd_(std::move(fd)), slot_(fd_.get()) {
  ++shared_.stats.accepted;
  // Edge-triggered for both directions: registered once, never modified. Backpressure is
  // "do not read", not an epoll_ctl call.
  uint32_t events = kReadable | kWritable | kReadHangup | kEdgeTriggered;
  if (shared_.reactor.add(fd_.get(), events, this) != 0) {
    fd_.reset();
    state_ = State::closed;
    return;
  }
  enter(State::reading, shared_.limits.header_timeout_ms);
  if (shared_.access_log) {
    char name[64];
    std::string_view peer = peer_name(fd_.get(), name);
    try {
      remote_ = std::make_unique<std::string>(peer);
    } catch (const std::bad_alloc&) {
    }
  }
}

Connection::~Connection() {
  if (upload_) *upload_->handle = nullptr;
  unlink();
  if (fd_) {
    shared_.reactor.forget(fd_.get());
    fd_.reset();
  }
  release_buffers();
}

Connection& Connection::from_link(ListLink* link) noexcept {
  return *static_cast<Connection*>(link);
}

void Connection::enter(State state, uint64_t timeout_ms) noexcept {
  state_ = state;
  deadline_ms_ = shared_.reactor.now_ms() + timeout_ms;
  List* list = nullptr;
  switch (state) {
    case State::reading:
      list = &shared_.reading;
      break;
    case State::reading_body:
      list = &shared_.reading_body;
      break;
    case State::idle:
      list = &shared_.idle;
      break;
    case State::writing:
      list = &shared_.writing;
      break;
    case State::lingering:
      list = &shared_.lingering;
      break;
    case State::streaming:
    case State::paused:
      unlink();
      return;
    case State::closed:
      unlink();
      return;
  }
  list->push_back(*this);
}

void Connection::on_io(uint32_t events) noexcept {
  if (closed()) return;
  if (events & kIoError) {  // reset by the peer, or a failed send: nothing can be delivered
    close();
    return;
  }
  if (stream_ && (events & (kReadHangup | kHangup))) {
    // The client finished sending while a response streams: it went away (a half-closed
    // client waiting on a stream is not told apart; it loses the rest of the body).
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
  if ((events & kWritable) && out_sent_ < out_.size()) {
    if (!write_out()) return;
  }
  serve();
}

void Connection::serve() noexcept {
  for (;;) {
    if (stream_) pump();
    if (closed()) return;
    if (takes_requests() && has_unparsed() && !backpressured()) parse();
    if (closed()) return;
    // Read until the socket is drained, parsing as we go, so that all the responses of a
    // batch of pipelined requests leave in one write.
    if (takes_requests() && unread_input() && !backpressured()) {
      if (read_some()) continue;
      if (closed()) return;
    }
    if (!write_out()) return;
    if (backpressured() || tail_) break;
    // Output drained below the high-water mark: go on with a stream that can produce more,
    // or with parsed requests still waiting. Reading stopped at the high-water mark with
    // bytes still in the kernel: edge-triggered epoll will not report them again, so read on.
    bool stream_more = stream_ && !stream_->idle;
    if (!stream_more && !(takes_requests() && (has_unparsed() || unread_input()))) break;
  }
  settle();
}

bool Connection::read_some() noexcept {
  if (!in_) take_buffers();
  if (in_->capacity - in_->length < kMinReadRoom && !make_room()) {
    fail(codec_->in_body() ? 413 : 431);
    return false;
  }
  size_t room = in_->capacity - in_->length;
  ssize_t n;
  do {
    n = ::read(fd_.get(), in_->data.get() + in_->length, room);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    in_->length += static_cast<size_t>(n);
    shared_.stats.traffic.bytes_read += static_cast<uint64_t>(n);
    if (shared_.time_requests) timer_.read_at(monotonic_ns());
    // A short read means the socket is drained: skip the read that would only say EAGAIN.
    // Edge-triggered epoll reports bytes that arrive after this read as a new edge.
    // Not once the peer has shut down: its EOF came with this edge and no other edge follows.
    if (static_cast<size_t>(n) < room && peer_ == Peer::readable) peer_ = Peer::drained;
    if (codec_->in_body() && (state_ == State::reading || state_ == State::reading_body))
      await_body();  // progress re-arms
    // A body read as it arrives, from a client that fills every read: larger reads, fewer
    // calls. The buffer doubles up to 64 KiB, once per upload; the pool does not keep it.
    if (upload_ && static_cast<size_t>(n) == room) in_->grow(kUploadReadBytes);
    return true;
  }
  if (n == 0) {
    peer_ = Peer::gone;
    // A refused request line that will not be finished now.
    if (codec_->finish() == RequestCodec::Result::error) fail(codec_->status());
  } else {
    peer_ = Peer::drained;
    if (errno != EAGAIN) close();  // ECONNRESET and friends
  }
  return false;
}

// Makes room at the end of the read buffer: drops what no span needs any more, then grows
// the buffer if the request in progress still fills it. Only between two decode() calls:
// the codec holds no pointer into our buffer across calls.
bool Connection::make_room() noexcept {
  ReadBuffer& b = *in_;
  codec_->compact(b);
  if (b.capacity - b.length >= kMinReadRoom) return true;

  // Still full: the head or a Content-Length body is larger than the buffer. Grow, within
  // what the limits allow one request to need.
  const Limits& l = shared_.limits;
  return b.grow(l.max_target_bytes + l.max_header_bytes + l.max_body_bytes + 2 * kMinReadRoom +
                shared_.pool.read_capacity());
}

// Kept small and inlined into parse(): every request's path ends here, and nearly every answer
// keeps the connection.
[[gnu::always_inline]] inline void Connection::dispatch() noexcept {
  prepare_output();
  count_request();
  Answer a = answer(shared_, *in_, codec_->head(), out_);
  account(a);
  if (a.outcome != Answer::Outcome::keep_alive) return conclude(a);
  phase_ = Phase::kept_alive;
  if (a.streams) start_stream(a.chunked);
  if (a.tail) [[unlikely]]
    start_tail();
}

// An answer that ends the connection, or none at all.
void Connection::conclude(Answer a) noexcept {
  switch (a.outcome) {
    case Answer::Outcome::keep_alive:
      phase_ = Phase::kept_alive;
      break;
    case Answer::Outcome::close:
      // Whatever follows a request that closes is never processed (it may not even be HTTP).
      phase_ = has_unparsed() ? Phase::finishing_unread : Phase::finishing;
      break;
    case Answer::Outcome::handler_threw:
      phase_ = Phase::finishing_unread;
      return;
    case Answer::Outcome::body_unread:
      phase_ = Phase::finishing_unread;
      break;
    case Answer::Outcome::reads_body:  // on_head() takes it
      return;
    case Answer::Outcome::no_memory:
      phase_ = Phase::finishing;
      return;
    case Answer::Outcome::head_too_big:
      return fail(431);
    case Answer::Outcome::take_over:
      // Nothing after this request is ours to parse: it is the new protocol's.
      phase_ = Phase::finishing;
      try {
        take_ = std::make_unique<TakeOver>(shared_.response.release_take_over());
      } catch (const std::bad_alloc&) {
      }
      return;
  }
  if (a.streams) start_stream(a.chunked);
  if (a.tail) start_tail();
}

void Connection::start_stream(bool chunked) noexcept {
  try {
    stream_ = std::make_shared<Stream>(*this, shared_.response.take_producer(), chunked);
    stream_->self = stream_;
  } catch (const std::bad_alloc&) {
    phase_ = Phase::finishing;
  }
}

// Answers each request the codec finds, in order, while the client keeps up with the answers.
void Connection::parse() noexcept {
  while (takes_requests() && !backpressured() && !closed()) {
    RequestCodec::Result result = codec_->decode(*in_);
    if (codec_->began()) begin_request();
    switch (result) {
      case RequestCodec::Result::more:
        return;
      case RequestCodec::Result::request:
        dispatch();
        break;
      case RequestCodec::Result::continue_100:
        prepare_output();
        out_.append(k100Continue);
        break;
      case RequestCodec::Result::error:
        return fail(codec_->status());
      case RequestCodec::Result::head:
        on_head();
        break;
      case RequestCodec::Result::body_piece:
        deliver(false);
        break;
      case RequestCodec::Result::body_end:
        deliver(true);
        break;
    }
  }
}

// --- Bodies read as they arrive ------------------------------------------------------------

// A request with a body, its head complete (the codec stops there when the server has a
// stream_body): read the body whole first, or run the handler now.
void Connection::on_head() noexcept {
  const RequestCodec::Head& head = codec_->head();
  if (!present_head(shared_, *in_, head)) return fail(431);
  bool streams = false;
  try {
    streams = shared_.stream_body(shared_.request);
  } catch (const std::exception& e) {
    if (shared_.error_log) shared_.error_log->error("stream_body failed: ", e.what());
    return fail_handler();
  } catch (...) {
    return fail_handler();
  }
  if (!streams) {
    if (int status = codec_->read_body()) return fail(status);
    if (head.expect_continue) {
      prepare_output();
      out_.append(k100Continue);
    }
    return;
  }
  codec_->stream_body();
  prepare_output();
  count_request();
  Answer a = answer_head(shared_, head, out_);
  if (a.outcome != Answer::Outcome::reads_body) {
    account(a);
    return conclude(a);
  }
  try {
    auto upload = std::make_unique<Upload>();
    upload->reader = shared_.response.release_reader();
    upload->method.assign(shared_.request.method());
    if (shared_.ids) upload->access = pending_access_of(shared_.request);
    upload->handle = std::make_shared<Connection*>(this);
    std::weak_ptr<Connection*> handle = upload->handle;
    upload->reader->resume_ = [handle] {
      if (auto h = handle.lock(); h && *h) (*h)->resume_upload();
    };
    upload_ = std::move(upload);
  } catch (const std::bad_alloc&) {
    return fail_handler();
  }
  // The client waits for this before it sends the body, now that someone reads it.
  if (head.expect_continue) out_.append(k100Continue);
}

bool Connection::upload_paused() const noexcept { return upload_ && upload_->paused; }

// The codec's next piece of a streamed body (the buffer's body span) to the reader; `last`:
// the body is complete with it.
void Connection::deliver(bool last) noexcept {
  Upload& upload = *upload_;
  std::string_view piece(in_->data.get() + in_->body.offset, in_->body.length);
  BodyReader::Next next = BodyReader::Next::more;
  if (!piece.empty()) {
    upload.delivering = true;
    upload.resumed = false;
    try {
      next = upload.reader->data(piece);
    } catch (const std::exception& e) {
      if (shared_.error_log) shared_.error_log->error("body reader failed: ", e.what());
      upload.delivering = false;
      return fail_handler();
    } catch (...) {
      upload.delivering = false;
      return fail_handler();
    }
    upload.delivering = false;
  }
  if (last) return finish_upload(false);
  if (next == BodyReader::Next::stop) return finish_upload(true);
  if (next == BodyReader::Next::pause && !upload.resumed) upload.paused = true;
}

// The body is complete, or the reader said stop (`stopped`): the reader answers.
void Connection::finish_upload(bool stopped) noexcept {
  std::unique_ptr<Upload> upload = std::move(upload_);
  *upload->handle = nullptr;
  prepare_output();
  // Other connections' requests came between: the limit is this one's again.
  uint64_t limit = shared_.limits.max_requests_per_connection;
  shared_.last_request = limit != 0 && answered_ >= limit;
  shared_.answer_from = out_.size();
  std::string_view id = upload->access ? std::string_view(upload->access->request_id) : "";
  Answer a = answer_body(shared_, *upload->reader, upload->method, codec_->head(), stopped,
                         shared_.echo_request_id ? id : "", out_);
  // Counted by the upload's method: shared_.request is another request's by now.
  if (a.outcome != Answer::Outcome::no_memory) {
    count_response(shared_.stats.traffic, upload->method, shared_.response.status);
    if (shared_.time_requests)
      timer_.answered(a.streams || a.tail ? ResponseTimer::kOpen : out_.size());
    if (shared_.access_log && upload->access) [[unlikely]]
      access_body_answered(a, std::move(upload->access));
  }
  if (a.outcome != Answer::Outcome::keep_alive) return conclude(a);
  phase_ = Phase::kept_alive;
  if (a.streams) start_stream(a.chunked);
  if (a.tail) start_tail();
}

void Connection::abort_upload(int status) noexcept {
  if (!upload_) return;
  std::unique_ptr<Upload> upload = std::move(upload_);
  *upload->handle = nullptr;
  upload->reader->abort(status);
}

void Connection::resume_upload() noexcept {
  if (closed() || !upload_) return;
  if (upload_->delivering) {  // before data() has even returned pause
    upload_->resumed = true;
    upload_->paused = false;
    return;
  }
  if (!upload_->paused) return;
  upload_->paused = false;
  serve();
}

// --- Streamed responses ---------------------------------------------------------------------

void Connection::pump() noexcept {
  if (pumping_) {  // the producer called its waker itself: one more round
    rewake_ = true;
    return;
  }
  while (stream_ && !closed() && !backpressured()) {
    std::shared_ptr<Stream> stream = stream_;  // the producer may close the connection
    stream->wrote = false;
    stream->idle = false;
    rewake_ = false;
    pumping_ = true;
    prepare_output();
    try {
      stream->producer(*stream);
    } catch (const std::exception& e) {
      // The head is gone already: no 500 is possible. Cut the body short.
      if (shared_.error_log) shared_.error_log->error("stream producer failed: ", e.what());
      pumping_ = false;
      close();
      return;
    } catch (...) {
      pumping_ = false;
      close();
      return;
    }
    pumping_ = false;
    if (closed()) return;
    if (stream->ended) return finish_stream();
    if (!stream->wrote && !rewake_) {  // nothing yet: waits for its waker
      stream->idle = true;
      return;
    }
  }
}

void Connection::finish_stream() noexcept {
  bool chunked = stream_->chunked;
  if (shared_.time_requests) timer_.ended(out_.size());
  if (pending_access_) access_stream_ended();
  stream_->connection = nullptr;
  stream_.reset();
  // HTTP/1.0 has no chunks: closing the connection ends the body.
  if (!chunked && phase_ != Phase::finishing_unread) phase_ = Phase::finishing;
}

void Connection::wake_stream() noexcept {
  if (pumping_) {
    rewake_ = true;
    return;
  }
  if (closed() || !stream_) return;
  stream_->idle = false;
  serve();
}

// --- Requests and responses ---------------------------------------------------------------

// An error the client caused: answer it and close, reading nothing more as requests. Unread
// input may remain: the connection lingers before closing.
void Connection::fail(int status) noexcept {
  if (parsing_stopped()) return abort_upload(status);
  count_response(shared_.stats.traffic, method_read(), status);
  prepare_output();
  size_t from = out_.size();
  std::string_view id;
  if (shared_.ids) [[unlikely]]
    id = error_request_id();
  answer_error(shared_, status, out_, shared_.echo_request_id ? id : std::string_view());
  if (shared_.access_log) [[unlikely]]
    access_failed(status, out_.size() - from, id);
  abort_upload(status);  // after the access line, which reads the upload's head
  phase_ = Phase::finishing_unread;
}

// Code of the host's threw outside a handler (stream_body, a body reader): 500, and close.
void Connection::fail_handler() noexcept {
  if (parsing_stopped()) return abort_upload(500);
  count_response(shared_.stats.traffic, method_read(), 500);
  prepare_output();
  size_t from = out_.size();
  std::string_view id;
  if (shared_.ids) [[unlikely]]
    id = error_request_id();
  answer_handler_error(shared_, out_, shared_.echo_request_id ? id : std::string_view());
  if (shared_.access_log) [[unlikely]]
    access_failed(500, out_.size() - from, id);
  abort_upload(500);
  phase_ = Phase::finishing_unread;
}

bool Connection::write_out() noexcept {
  bool progressed = false;
  while (out_sent_ < out_.size()) {
    size_t left = out_.size() - out_sent_;
    ssize_t n;
    if (tail_ && tail_->memory) {
      // The head and a body in memory in one call (sendmsg: writev has no MSG_NOSIGNAL).
      iovec iov[2] = {{out_.data() + out_sent_, left},
                      {const_cast<char*>(tail_->memory->data()) + tail_->offset,
                       static_cast<size_t>(tail_->left)}};
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2;
      n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
      if (n > 0 && static_cast<size_t>(n) > left) {  // into the body as well
        uint64_t body = static_cast<size_t>(n) - left;
        tail_->offset += body;
        tail_->left -= body;
        shared_.stats.traffic.bytes_written += body;
        n = static_cast<ssize_t>(left);
      }
    } else {
      // A file follows: the head waits for its first bytes rather than leave alone.
      n = ::send(fd_.get(), out_.data() + out_sent_, left, MSG_NOSIGNAL | (tail_ ? MSG_MORE : 0));
    }
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      shared_.stats.traffic.bytes_written += static_cast<uint64_t>(n);
      progressed = true;
      // A short write means the socket buffer is full: the next send would say EAGAIN.
      if (static_cast<size_t>(n) < left) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    close();  // EPIPE, ECONNRESET: the client is gone
    return false;
  }
  if (tail_ && out_sent_ == out_.size() && !send_tail(progressed)) return false;
  if (shared_.time_requests && progressed && timer_.completes(out_sent_))
    timer_.sent(out_sent_, monotonic_ns(), shared_.stats.traffic);
  if (out_sent_ == out_.size() && !tail_) {
    out_.clear();
    out_sent_ = 0;
  } else if (progressed || state_ != State::writing) {
    enter(State::writing, shared_.limits.write_timeout_ms);
  }
  return true;
}

// --- Bodies sent from where they lie (output_tail.hpp) -------------------------------------

// shared_.response's body elsewhere becomes this connection's tail, sent once out_ is.
void Connection::start_tail() noexcept {
  Response& response = shared_.response;
  std::unique_ptr<OutputTail> tail;
  if (!shared_.free_tails.empty()) {
    tail = std::move(shared_.free_tails.back());
    shared_.free_tails.pop_back();
  } else {
    try {
      tail = std::make_unique<OutputTail>();
    } catch (const std::bad_alloc&) {
      phase_ = Phase::finishing;  // the head promised a body we cannot send
      return;
    }
  }
  tail->left = response.content_length();
  tail->offset = ResponseAccess::file_offset(response);
  tail->file = ResponseAccess::take_file(response);
  if (!tail->file) {
    tail->memory = ResponseAccess::take_shared(response);
    tail->offset = 0;
  }
  tail_ = std::move(tail);
  if (tail_->left == 0) finish_tail();
}

// The rest of the tail, after out_ is out: a file's range, or what write_out's sendmsg left
// of a body in memory.
bool Connection::send_tail(bool& progressed) noexcept {
  OutputTail& tail = *tail_;
  while (tail.left > 0) {
    size_t count = static_cast<size_t>(std::min(tail.left, kMaxSendfileBytes));
    ssize_t n;
    if (tail.file) {
      off_t offset = static_cast<off_t>(tail.offset);
      n = ::sendfile(fd_.get(), tail.file->fd(), &offset, count);
    } else {
      n = ::send(fd_.get(), tail.memory->data() + tail.offset, count, MSG_NOSIGNAL);
    }
    if (n > 0) {
      tail.offset += static_cast<uint64_t>(n);
      tail.left -= static_cast<uint64_t>(n);
      shared_.stats.traffic.bytes_written += static_cast<uint64_t>(n);
      progressed = true;
      // Short from memory: the socket is full. From a file it may also have ended: ask again
      // (EAGAIN when full, 0 when shrunk).
      if (!tail.file && static_cast<size_t>(n) < count) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    // 0: the file ends before the length the head announced; padding would be garbage and
    // another response would be read as the rest of this body. Or an error: either way the
    // client must see the connection end short.
    if (n == 0 && shared_.error_log)
      shared_.error_log->error("file shrank while it was sent: ", "connection closed");
    close();
    return false;
  }
  finish_tail();
  return true;
}

void Connection::finish_tail() noexcept {
  std::unique_ptr<OutputTail> tail = std::move(tail_);
  if (shared_.time_requests) timer_.ended(out_.size());
  tail->clear();
  if (shared_.free_tails.size() < kMaxFreeCodecs) {
    try {
      shared_.free_tails.push_back(std::move(tail));
    } catch (const std::bad_alloc&) {
    }
  }
}

// Decides what the connection waits for next, after a round of reading, parsing and writing.
void Connection::settle() noexcept {
  if (out_sent_ < out_.size() || tail_) {
    if (state_ != State::writing) enter(State::writing, shared_.limits.write_timeout_ms);
    return;
  }
  if (take_) return hand_off();  // the response is out
  if (upload_paused()) {         // the reader's resume brings us back
    if (state_ != State::paused) enter(State::paused, 0);
    return;
  }
  if (stream_) {  // waiting for the producer: its waker brings us back
    if (state_ != State::streaming) enter(State::streaming, 0);
    return;
  }
  if (parsing_stopped()) {
    if (phase_ == Phase::finishing || peer_ == Peer::gone) return close();
    // Unread input may remain: closing now could reset the connection before the client has
    // read our answer. Stop sending, discard what comes, close at EOF or after a while.
    ::shutdown(fd_.get(), SHUT_WR);
    release_buffers();
    enter(State::lingering, shared_.limits.linger_timeout_ms);
    discard_input();
    return;
  }
  if (peer_ == Peer::gone) return close();  // everything the client sent is answered (or cut short)
  if (phase_ == Phase::in_request || has_unparsed()) {
    if (codec_->in_body()) {
      if (state_ != State::reading_body) await_body();
    } else if (state_ != State::reading) {
      enter(State::reading, shared_.limits.header_timeout_ms);
    }
    return;
  }
  // Idle: nothing buffered, nothing to send. Give the buffers back to the pool.
  release_buffers();
  if (phase_ == Phase::fresh) {
    if (state_ != State::reading) enter(State::reading, shared_.limits.header_timeout_ms);
    return;
  }
  if (shared_.draining) return close();
  enter(State::idle, shared_.limits.idle_timeout_ms);
}

void Connection::discard_input() noexcept {
  char sink[4096];
  for (;;) {
    ssize_t n = ::read(fd_.get(), sink, sizeof sink);
    if (n > 0) {
      shared_.stats.traffic.bytes_read += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close();  // EOF or error: the client has everything we sent
    return;
  }
}

void Connection::on_timeout() noexcept {
  ++shared_.stats.timeouts;
  TrafficStats::Timeouts& kind = shared_.stats.traffic.timeouts;
  switch (state_) {
    case State::reading:
      ++kind.header;
      break;
    case State::reading_body:
      ++kind.body;
      break;
    case State::idle:
      ++kind.idle;
      break;
    case State::writing:
      ++kind.write;
      break;
    case State::lingering:
      ++kind.linger;
      break;
    case State::streaming:
    case State::paused:
    case State::closed:
      break;
  }
  abort_upload(408);
  if ((state_ == State::reading && codec_ && codec_->in_head()) || state_ == State::reading_body) {
    // Bytes came but no complete request: tell the client why before closing (RFC 9110
    // section 15.5.9).
    fail(408);
    write_out();
  }
  close();
}

void Connection::drain() noexcept {
  if (closed()) return;
  bool busy = phase_ == Phase::in_request || stream_ || upload_ || tail_ ||
              out_sent_ < out_.size() || has_unparsed();
  // A request the client has sent but we have not read yet is in flight too.
  char byte;
  if (!busy && fd_ && ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1) busy = true;
  if (!busy || state_ == State::lingering) close();
}

// --- Request ids and the access log (access_log.hpp) ---------------------------------------

void Connection::name_request() noexcept {
  shared_.request.set_request_id(shared_.ids->choose(field_read("X-Request-Id")));
  shared_.answer_from = out_.size();
}

std::string_view Connection::field_read(std::string_view name) const noexcept {
  if (!in_) return {};
  const char* data = in_->data.get();
  for (const HeaderSpan& h : in_->headers)
    if (iequals({data + h.name.offset, h.name.length}, name))
      return {data + h.value.offset, h.value.length};
  return {};
}

// What the access line of a response that ends later needs of its request: a copy, as the
// request's views go with the next one. Null when memory is short (no line then).
std::unique_ptr<PendingAccess> Connection::pending_access_of(const Request& q) noexcept {
  try {
    auto p = std::make_unique<PendingAccess>();
    p->method = q.method();
    p->target = q.target();
    p->request_id = q.request_id();
    std::string_view version = http_version(q.version_major(), q.version_minor(), p->proto);
    p->proto_length = static_cast<uint8_t>(version.size());
    return p;
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

// The response a body reader gave once its body ended: logged now, or when its stream ends.
void Connection::access_body_answered(const Answer& a, std::unique_ptr<PendingAccess> p) noexcept {
  p->status = shared_.response.status;
  p->head_bytes = out_.size() - shared_.answer_from;
  p->start_ns = timer_.last_read_ns();
  if (a.streams) {
    pending_access_ = std::move(p);
    return;
  }
  access_pending(*p, p->status, p->head_bytes, microseconds_since_read());
}

void Connection::access_pending(const PendingAccess& p, int status, uint64_t bytes,
                                uint64_t duration_us) noexcept {
  log_access(*shared_.access_log, {p.method,
                                   p.target,
                                   p.request_id,
                                   remote(),
                                   {p.proto, p.proto_length},
                                   status,
                                   bytes,
                                   duration_us});
}

void Connection::access_answered(const Answer& a) noexcept {
  const Request& q = shared_.request;
  char proto[16];
  std::string_view version = http_version(q.version_major(), q.version_minor(), proto);
  uint64_t head_bytes = out_.size() - shared_.answer_from;
  if (a.streams) {
    if (auto p = pending_access_of(q)) {
      p->status = shared_.response.status;
      p->head_bytes = head_bytes;
      p->start_ns = timer_.last_read_ns();
      pending_access_ = std::move(p);
    }
    return;
  }
  if (a.tail) head_bytes += shared_.response.content_length();  // the body after the head
  log_access(*shared_.access_log, {q.method(), q.target(), q.request_id(), remote(), version,
                                   shared_.response.status, head_bytes, microseconds_since_read()});
}

// The id of a request the connection answers itself: an upload's, the client's when sane, else
// a new one. With shared_.ids only.
std::string_view Connection::error_request_id() noexcept {
  if (upload_ && upload_->access) return upload_->access->request_id;
  return shared_.ids->choose(field_read("X-Request-Id"));
}

void Connection::access_failed(int status, uint64_t bytes, std::string_view id) noexcept {
  if (upload_ && upload_->access) {  // a body read as it arrives: its head is gone from in_
    return access_pending(*upload_->access, status, bytes, microseconds_since_read());
  }
  std::string_view target;
  if (in_) target = {in_->data.get() + in_->target.offset, in_->target.length};
  log_access(*shared_.access_log,
             {method_read(), target, id, remote(), {}, status, bytes, microseconds_since_read()});
}

void Connection::access_stream_ended() noexcept {
  std::unique_ptr<PendingAccess> p = std::move(pending_access_);
  uint64_t body = stream_ ? stream_->bytes : 0;
  access_pending(*p, p->status, p->head_bytes + body, (monotonic_ns() - p->start_ns) / 1000);
}

std::string_view Connection::method_read() const noexcept {
  // A body read as it arrives keeps no spans of its head: the upload keeps the method.
  if (upload_) return upload_->method;
  // The codec resets the spans when a request begins: this is the current one's, possibly
  // cut short (a partial method counts as another method).
  if (!in_) return {};
  return {in_->data.get() + in_->method.offset, in_->method.length};
}

void Connection::take_pooled_output() noexcept {
  std::string pooled = shared_.pool.get_output();
  if (pooled.capacity() > out_.capacity()) out_.swap(pooled);
}

// A read buffer and a codec to parse it, from the pools (allocated when they are empty).
void Connection::take_buffers() {
  in_ = shared_.pool.get_read();
  if (shared_.free_codecs.empty()) {
    codec_ = std::make_unique<RequestCodec>(shared_.codec_rules);
  } else {
    codec_ = std::move(shared_.free_codecs.back());
    shared_.free_codecs.pop_back();
  }
}

void Connection::release_buffers() noexcept {
  if (in_) shared_.pool.put_read(std::move(in_));
  in_.reset();
  if (codec_) {
    if (!codec_->at_rest()) codec_->reset();
    if (shared_.free_codecs.size() < kMaxFreeCodecs) {
      shared_.free_codecs.push_back(std::move(codec_));  // capacity reserved: no allocation
    }
    codec_.reset();
  }
  if (out_.capacity() >= 64 && out_sent_ == out_.size()) {
    shared_.pool.put_output(out_);
    out_sent_ = 0;
  }
}

// The response that handed the connection over is sent: the descriptor and what was read past
// the request go to the taker, and the connection ends without closing the descriptor.
void Connection::hand_off() noexcept {
  std::unique_ptr<TakeOver> take = std::move(take_);
  // The descriptor stays open, so the epoll set would keep it: remove it for real.
  shared_.reactor.remove(fd_.get());
  int fd = fd_.release();
  ++shared_.stats.taken_over;
  std::string_view rest;
  if (has_unparsed()) rest = {in_->data.get() + in_->parsed, in_->length - in_->parsed};
  try {
    (*take)(fd, rest);  // `rest` lives in in_, released by close() below
  } catch (const std::exception& e) {
    if (shared_.error_log) shared_.error_log->error("take-over failed: ", e.what());
    ::close(fd);
  } catch (...) {
    if (shared_.error_log) shared_.error_log->error("take-over failed: ", "unknown exception");
    ::close(fd);
  }
  close();
}

void Connection::close() noexcept {
  if (closed()) return;
  enter(State::closed, 0);
  abort_upload(0);
  timer_.forget();
  take_.reset();  // a response that was to hand over, never sent: the client is gone
  if (tail_) tail_.reset();
  if (stream_) {
    if (pending_access_) access_stream_ended();  // cut short: what it sent
    stream_->connection = nullptr;               // its waker becomes a no-op
    stream_.reset();
  }
  // close() drops the descriptor from the epoll set: no epoll_ctl(DEL) needed.
  if (fd_) shared_.reactor.forget(fd_.get());
  fd_.reset();
  release_buffers();
  if (shared_.on_closed) shared_.on_closed(*this);
}

}  // namespace hs
