#include "connection.hpp"

#include <llhttp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <exception>
#include <string_view>

#include "common_head.hpp"
#include "token.hpp"

namespace hs {

static_assert(sizeof(llhttp_t) <= Connection::kParserBytes && alignof(llhttp_t) <= 8);

namespace {

// A read buffer with less room than this is compacted (or grown) before the next read.
constexpr size_t kMinReadRoom = 1024;

constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

Connection& self(llhttp_t* parser) { return *static_cast<Connection*>(parser->data); }

// Static one-line trampolines into the connection (as Node's parser binding does).
int cb_message_begin(llhttp_t* p) { return self(p).on_message_begin(); }
int cb_method(llhttp_t* p, const char* at, size_t n) { return self(p).on_method(at, n); }
int cb_url(llhttp_t* p, const char* at, size_t n) { return self(p).on_url(at, n); }
int cb_header_field(llhttp_t* p, const char* at, size_t n) {
  return self(p).on_header_field(at, n);
}
int cb_header_field_complete(llhttp_t* p) { return self(p).on_header_field_complete(); }
int cb_header_value(llhttp_t* p, const char* at, size_t n) {
  return self(p).on_header_value(at, n);
}
int cb_header_value_complete(llhttp_t* p) { return self(p).on_header_value_complete(); }
int cb_headers_complete(llhttp_t* p) { return self(p).on_headers_complete(); }
int cb_body(llhttp_t* p, const char* at, size_t n) { return self(p).on_body(at, n); }
int cb_message_complete(llhttp_t* p) { return self(p).on_message_complete(); }

// Assigned field by field, not with designated initializers: the order of the struct's fields
// differs between llhttp 8 (Debian 12) and 9.
llhttp_settings_t make_settings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = cb_message_begin;
  s.on_method = cb_method;
  s.on_url = cb_url;
  s.on_header_field = cb_header_field;
  s.on_header_field_complete = cb_header_field_complete;
  s.on_header_value = cb_header_value;
  s.on_header_value_complete = cb_header_value_complete;
  s.on_headers_complete = cb_headers_complete;
  s.on_body = cb_body;
  s.on_message_complete = cb_message_complete;
  return s;
}

// llhttp keeps a pointer to its settings: they must outlive every parser.
const llhttp_settings_t kSettings = make_settings();

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  return v;
}

// Every line of the head ends in CRLF, and no line but the first starts with whitespace
// (obs-fold).
bool strict_line_endings(const char* begin, const char* end) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101;
  for (const char* p = begin; p < end; ++p) {
    // Eight bytes at a time to the next byte below 0x0e ('\r' is 0x0d): the lowest flag of
    // this bit trick is exact (higher ones may not be), and a head has few such bytes.
    for (uint64_t w, low; end - p >= 8; p += 8) {
      std::memcpy(&w, p, 8);
      low = (w - kOnes * 0x0e) & ~w & kOnes * 0x80;
      if (low != 0) {
        p += std::countr_zero(low) / 8;
        break;
      }
    }
    if (p == end) break;
    if (*p > '\r') continue;  // the last bytes, checked one at a time
    if (*p == '\r' && (p + 1 >= end || p[1] != '\n')) return false;
    if (*p == '\n' && (p == begin || p[-1] != '\r' || (p + 1 < end && is_ows(p[1])))) return false;
  }
  return true;
}

// How far a request line that llhttp refused is well formed: `method SP request-target SP
// HTTP-version CRLF` (RFC 9112 section 3) with a token method, a target of visible bytes and
// a version of the form HTTP/d.d. Lenient where llhttp is strict (any token, any digits):
// what llhttp refused yet fits this shape is a method we do not know (501) or a version we do
// not speak (505); what does not fit is malformed (400).
enum class LineShape { partial_method, partial_target, partial_version, malformed, complete };

LineShape request_line_shape(std::string_view line) noexcept {
  size_t i = 0;
  while (i < line.size() && is_tchar(line[i])) ++i;
  if (i == line.size()) return LineShape::partial_method;
  if (i == 0 || line[i] != ' ') return LineShape::malformed;
  size_t j = ++i;
  while (j < line.size() && static_cast<unsigned char>(line[j]) > ' ' && line[j] != 0x7f) ++j;
  if (j == line.size()) return LineShape::partial_target;
  if (j == i || line[j] != ' ') return LineShape::malformed;
  static constexpr std::string_view kVersion = "HTTP/d.d\r\n";
  for (size_t k = 0; k < kVersion.size(); ++k) {
    if (++j == line.size()) return LineShape::partial_version;
    char c = line[j];
    bool ok = kVersion[k] == 'd' ? (c >= '0' && c <= '9') : c == kVersion[k];
    if (!ok) return LineShape::malformed;
  }
  return LineShape::complete;
}

}  // namespace

class Connection::Stream final : public BodyWriter {
 public:
  Stream(Connection& connection, BodyProducer producer, bool chunked)
      : connection(&connection), producer(std::move(producer)), chunked(chunked) {}

  void write(std::string_view data) override {
    if (connection == nullptr || ended || data.empty()) return;
    std::string& out = connection->out_;
    if (chunked) {
      char size[24];
      auto n = std::to_chars(size, size + sizeof size, data.size(), 16).ptr - size;
      out.append(size, static_cast<size_t>(n)).append("\r\n");
      out.append(data).append("\r\n");
    } else {
      out.append(data);
    }
    wrote = true;
  }
  void end() override {
    if (connection == nullptr || ended) return;
    ended = true;
    if (chunked) connection->out_.append("0\r\n\r\n");
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
  std::weak_ptr<Stream> self;
};

ConnectionShared::ConnectionShared(Reactor& r, const Limits& l, Handler h, Logger* log,
                                   std::string name)
    : reactor(r),
      limits(l),
      handler(std::move(h)),
      error_log(log),
      server_name(std::move(name)),
      pool(l.read_buffer_bytes, 64 * 1024, 1024) {}

Connection::Connection(ConnectionShared& shared, UniqueFd fd)
    : shared_(shared), fd_(std::move(fd)), slot_(fd_.get()) {
  llhttp_init(parser(), HTTP_REQUEST, &kSettings);
  parser()->data = this;
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
}

Connection::Connection(ConnectionShared& shared) : shared_(shared), slot_(-1), detached_(true) {
  llhttp_init(parser(), HTTP_REQUEST, &kSettings);
  parser()->data = this;
  enter(State::reading, shared_.limits.header_timeout_ms);
}

void Connection::receive(std::string_view bytes) noexcept {
  while (!closed() && !stop_parsing_ && !bytes.empty()) {
    if (!in_) in_ = shared_.pool.get_read();
    if (in_->capacity - in_->length < kMinReadRoom && !make_room()) {
      fail(in_message_ && head_done_ ? 413 : 431);
      break;
    }
    size_t n = std::min(in_->capacity - in_->length, bytes.size());
    std::memcpy(in_->data.get() + in_->length, bytes.data(), n);
    in_->length += n;
    bytes.remove_prefix(n);
    parse();
  }
  // Between reads an idle connection gives its read buffer back, as settle() does.
  if (in_ && !in_message_ && refused_error_ == 0 && in_->parsed == in_->length) {
    shared_.pool.put_read(std::move(in_));
    in_.reset();
  }
}

void Connection::receive_eof() noexcept {
  eof_ = true;
  if (refused_error_ != 0) return fail(400);  // the line will not be finished now
  if (in_message_) close();
}

Connection::~Connection() {
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
  if (events & (kReadable | kReadHangup | kHangup)) readable_ = true;
  if (events & (kReadHangup | kHangup)) hangup_ = true;
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
    if (!stream_ && in_ && in_->parsed < in_->length && !stop_parsing_ && !backpressured()) parse();
    if (closed()) return;
    // Read until the socket is drained, parsing as we go, so that all the responses of a
    // batch of pipelined requests leave in one write. Not while a response streams: the
    // requests behind it wait in the kernel, where TCP flow control bounds them.
    if (!stop_parsing_ && !eof_ && readable_ && !backpressured() && !stream_) {
      if (read_some()) continue;
      if (closed()) return;
    }
    if (!write_out()) return;
    if (backpressured()) break;
    // Output drained below the high-water mark: go on with a stream that can produce more,
    // or with parsed requests still waiting.
    bool stream_more = stream_ && !stream_->idle;
    bool waiting = !stream_ && in_ && in_->parsed < in_->length && !stop_parsing_;
    // Reading stopped at the high-water mark with bytes still in the kernel: edge-triggered
    // epoll will not report them again, so read on now.
    bool unread = !stream_ && readable_ && !eof_ && !stop_parsing_;
    if (!stream_more && !waiting && !unread) break;
  }
  settle();
}

bool Connection::read_some() noexcept {
  if (!in_) in_ = shared_.pool.get_read();
  if (in_->capacity - in_->length < kMinReadRoom && !make_room()) {
    fail(in_message_ && head_done_ ? 413 : 431);
    return false;
  }
  size_t room = in_->capacity - in_->length;
  ssize_t n;
  do {
    n = ::read(fd_.get(), in_->data.get() + in_->length, room);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    in_->length += static_cast<size_t>(n);
    // A short read means the socket is drained: skip the read that would only say EAGAIN.
    // Edge-triggered epoll reports bytes that arrive after this read as a new edge.
    // Not once the peer has shut down: its EOF came with this edge and no other edge follows.
    if (static_cast<size_t>(n) < room && !hangup_) readable_ = false;
    if (in_message_ && head_done_ && state_ == State::reading)
      enter(State::reading, shared_.limits.header_timeout_ms);  // body progress re-arms
    return true;
  }
  readable_ = false;
  if (n == 0) {
    eof_ = true;
    if (refused_error_ != 0) fail(400);  // the refused line will not be finished now
  } else if (errno != EAGAIN) {
    close();  // ECONNRESET and friends
  }
  return false;
}

// Makes room at the end of the read buffer: drops what no view needs any more, then grows
// the buffer if the request in progress still fills it. Only between two llhttp_execute calls:
// llhttp holds no pointer into our buffer across calls.
bool Connection::make_room() noexcept {
  ReadBuffer& b = *in_;
  // Keep [keep_begin, keep_end) for the views of the request in progress, and the unparsed
  // bytes [parsed, length) right after them.
  // A chunked body ends at body.end(): from there to `parsed` is framing already decoded.
  size_t keep_begin = b.parsed, keep_end = b.parsed;
  if (in_message_ || refused_error_ != 0) {
    keep_begin = b.line_start;
    if (in_chunked_body_) keep_end = b.body.end();
  }
  size_t kept = keep_end - keep_begin;
  size_t unparsed = b.length - b.parsed;
  if (keep_begin > 0 || keep_end < b.parsed) {
    std::memmove(b.data.get(), b.data.get() + keep_begin, kept);
    std::memmove(b.data.get() + kept, b.data.get() + b.parsed, unparsed);
    uint32_t shift = static_cast<uint32_t>(keep_begin);
    if (in_message_ || refused_error_ != 0) {
      if (b.method.length != 0) b.method.offset -= shift;
      if (b.target.length != 0) b.target.offset -= shift;
      for (auto& h : b.headers) h.name.offset -= shift, h.value.offset -= shift;
      if (b.body.length != 0 || in_chunked_body_) b.body.offset -= shift;
      if (b.head_start != 0) b.head_start -= shift;
      if (b.head_end != 0) b.head_end -= shift;
      b.line_start -= shift;
    }
    b.parsed = kept;
    b.length = kept + unparsed;
  }
  if (b.capacity - b.length >= kMinReadRoom) return true;

  // Still full: the head or a Content-Length body is larger than the buffer. Grow, within
  // what the limits allow one request to need.
  const Limits& l = shared_.limits;
  size_t cap = l.max_target_bytes + l.max_header_bytes + l.max_body_bytes + 2 * kMinReadRoom +
               shared_.pool.read_capacity();
  if (b.capacity >= cap) return false;
  size_t grown = b.capacity * 2 < cap ? b.capacity * 2 : cap;
  auto data = std::unique_ptr<char[]>(new (std::nothrow) char[grown]);
  if (!data) return false;
  std::memcpy(data.get(), b.data.get(), b.length);
  b.data = std::move(data);
  b.capacity = grown;
  return true;
}

void Connection::parse() noexcept {
  ReadBuffer& b = *in_;
  // After the head pause, execute once more even with no bytes left: llhttp completes a
  // bodiless message only when called again.
  bool head_pending = false;
  while ((b.parsed < b.length || head_pending) && !stop_parsing_ && !backpressured() && !closed() &&
         !stream_) {
    if (refused_error_ != 0 && !refused_line()) return;
    if (in_chunked_body_) {
      decode_chunked();
      continue;
    }
    if (!in_message_) {
      b.line_start = static_cast<uint32_t>(b.parsed);
      if (shared_.common_heads && parse_common()) continue;
      tabs_.reset();
    }
    char* base = b.data.get();
    if (!in_message_ || !head_done_) tabs_.feed(base + b.parsed, base + b.length);
    head_pending = false;
    pause_ = Pause::none;
    llhttp_errno_t err = llhttp_execute(parser(), base + b.parsed, b.length - b.parsed);
    if (err == HPE_OK) {
      b.parsed = b.length;
      // Bytes llhttp skips without a callback (whitespace around field values) count too.
      if (in_message_ && !head_done_ && b.parsed - b.line_start > max_head_wire_bytes()) fail(431);
      break;
    }
    const char* at = llhttp_get_error_pos(parser());
    if (at != nullptr) b.parsed = static_cast<size_t>(at - base);
    if (err == HPE_PAUSED) {
      if (pause_ != Pause::head) llhttp_resume(parser());
      if (pause_ == Pause::head) {
        b.head_end = static_cast<uint32_t>(b.parsed);
        check_head();
        if (in_chunked_body_ || stop_parsing_) continue;  // llhttp is not resumed
        llhttp_resume(parser());
        head_pending = true;
      } else if (pause_ == Pause::message) {
        if (b.head_end == 0) {  // a bodiless request: its head ends where it does
          b.head_end = static_cast<uint32_t>(b.parsed);
          check_head();
          if (stop_parsing_) break;
        }
        dispatch();
      }
      continue;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // Upgrade or CONNECT: we do not switch protocols, so the connection goes on speaking
      // HTTP/1.1 (the request itself was answered at on_message_complete).
      llhttp_resume_after_upgrade(parser());
      continue;
    }
    if (error_status_ == 0 && (err == HPE_INVALID_METHOD || err == HPE_INVALID_VERSION)) {
      refused_error_ = err;
      if (!refused_line()) return;
      continue;
    }
    fail(error_status_ != 0 ? error_status_ : 400);
  }
}

// llhttp refused the request line for its method or its version. Whether that is a method we
// do not know (RFC 9110 section 15.6.2: 501), a version we do not speak (section 15.6.6: 505)
// or a malformed line (400) is told by the whole line: until its end has come, the bytes are
// only kept (as many as a request line may hold), so the answer does not depend on how the
// line was split into reads. True when the line is to be parsed again.
bool Connection::refused_line() noexcept {
  ReadBuffer& b = *in_;
  b.parsed = b.length;
  char* data = b.data.get();
  std::string_view line(data + b.line_start, b.length - b.line_start);
  while (!line.empty() && (line.front() == '\r' || line.front() == '\n')) line.remove_prefix(1);
  // Only as much as a request line may hold is looked at, so a line that is too long is
  // refused the same way whether it arrived whole or in pieces.
  const size_t max_line = shared_.limits.max_target_bytes + 64;
  LineShape shape = request_line_shape(line.substr(0, max_line));
  int status = 400;
  switch (shape) {
    case LineShape::complete: {
      if (refused_error_ == HPE_INVALID_METHOD) {
        status = 501;
        break;
      }
      // RFC 9110 section 2.5: a higher minor version of 1 is processed as 1.1, which llhttp 8
      // cannot be told to do: the line is parsed again, saying 1.1.
      size_t minor = static_cast<size_t>(line.data() - data) + line.find("\r\n") - 1;
      if (data[minor - 2] == '1' && data[minor] > '1') {
        data[minor] = '1';
        b.parsed = static_cast<size_t>(line.data() - data);
        refused_error_ = 0;
        in_message_ = false;
        llhttp_reset(parser());
        return true;
      }
      status = 505;
      break;
    }
    case LineShape::malformed:
      break;
    case LineShape::partial_method:
    case LineShape::partial_target:
    case LineShape::partial_version:
      if (line.size() <= max_line) return false;  // wait for more
      status = shape == LineShape::partial_target ? 414 : 400;
      break;
  }
  fail(status);
  return false;
}

// A common head, complete in the buffer, parsed and checked in one pass and dispatched; llhttp
// is not called and stays where it was, at the start of a message. False (nothing changed)
// for any other head: llhttp parses it.
bool Connection::parse_common() noexcept {
  ReadBuffer& b = *in_;
  const Limits& l = shared_.limits;
  CommonHead common;
  size_t max_bytes = std::min(l.max_header_bytes, l.max_target_bytes);
  if (!parse_common_head(b, max_bytes, shared_.host_memo, common)) return false;
  begin_message();
  head_done_ = true;
  head_.method = common.method == CommonHead::Method::get ? HTTP_GET : HTTP_HEAD;
  head_.major = 1;
  head_.minor = common.minor;
  head_.keep_alive = common.keep_alive;
  b.parsed = b.head_end;
  dispatch();
  return true;
}

// The head as sent, whitespace included, may exceed what the limits count by a request line's
// framing and the whitespace around field values; not by more.
size_t Connection::max_head_wire_bytes() const noexcept {
  return shared_.limits.max_target_bytes + shared_.limits.max_header_bytes + 1024;
}

void Connection::decode_chunked() noexcept {
  ReadBuffer& b = *in_;
  size_t out = b.body.end();
  ChunkedDecoder::Result r = chunked_.decode(b.data.get(), b.parsed, b.length, out);
  b.body.length = static_cast<uint32_t>(out - b.body.offset);
  switch (r) {
    case ChunkedDecoder::Result::more:
      return;
    case ChunkedDecoder::Result::done:
      in_chunked_body_ = false;
      llhttp_reset(parser());  // it stopped at the head: the next request starts afresh
      return dispatch();
    case ChunkedDecoder::Result::bad:
      return fail(400);
    case ChunkedDecoder::Result::body_too_large:
    case ChunkedDecoder::Result::line_too_long:
    case ChunkedDecoder::Result::extensions_too_large:
      return fail(413);
    case ChunkedDecoder::Result::trailers_too_large:
      return fail(431);
  }
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
  stream_->connection = nullptr;
  stream_.reset();
  // HTTP/1.0 has no chunks: closing the connection ends the body.
  if (!chunked) stop_parsing_ = close_after_write_ = true;
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

// --- llhttp callbacks -------------------------------------------------------------------

int Connection::reject(int status, const char* reason) noexcept {
  error_status_ = status;
  llhttp_set_error_reason(parser(), reason);
  return HPE_USER;
}

int Connection::on_message_begin() noexcept {
  in_->reset_request();
  begin_message();
  return 0;
}

void Connection::begin_message() noexcept {
  in_message_ = true;
  head_done_ = false;
  in_field_ = in_value_ = false;
  head_bytes_ = 0;
  error_status_ = 0;
  if (state_ != State::reading) enter(State::reading, shared_.limits.header_timeout_ms);
}

int Connection::on_method(const char* at, size_t length) noexcept {
  ReadBuffer& b = *in_;
  if (b.method.length == 0) {
    b.method.offset = offset_of(at);
    b.head_start = b.method.offset;
  }
  b.method.length += static_cast<uint32_t>(length);
  return 0;
}

int Connection::on_url(const char* at, size_t length) noexcept {
  ReadBuffer& b = *in_;
  if (b.target.length == 0) b.target.offset = offset_of(at);
  b.target.length += static_cast<uint32_t>(length);
  if (b.target.length > shared_.limits.max_target_bytes)
    return reject(414, "request-target too long");
  return 0;
}

int Connection::on_header_field(const char* at, size_t length) noexcept {
  head_bytes_ += length;
  if (head_bytes_ > shared_.limits.max_header_bytes) return reject(431, "header section too large");
  ReadBuffer& b = *in_;
  if (!in_field_) {
    in_field_ = true;
    HeaderSpan span;
    span.name.offset = offset_of(at);
    b.headers.push_back(span);  // capacity kept by the pooled buffer: no allocation when warm
  }
  b.headers.back().name.length += static_cast<uint32_t>(length);
  return 0;
}

int Connection::on_header_field_complete() noexcept {
  in_field_ = false;
  head_bytes_ += 4;  // ": " and CRLF, so that many empty fields still count
  HeaderSpan& h = in_->headers.back();
  h.value.offset = h.name.end();  // an empty value gets no on_header_value call
  return 0;
}

int Connection::on_header_value(const char* at, size_t length) noexcept {
  head_bytes_ += length;
  if (head_bytes_ > shared_.limits.max_header_bytes) return reject(431, "header section too large");
  Span& v = in_->headers.back().value;
  if (!in_value_) {
    in_value_ = true;
    v.offset = offset_of(at);
    v.length = 0;
  } else if (offset_of(at) != v.end()) {
    // A second piece that does not continue the first: an obs-fold continuation line.
    // RFC 9112 section 5.2 lets a server reject it; we do, as folding hides smuggled fields.
    return reject(400, "obsolete line folding");
  }
  v.length += static_cast<uint32_t>(length);
  return 0;
}

int Connection::on_header_value_complete() noexcept {
  in_value_ = false;
  // Trimmed once here, as parse_common_head() trims, rather than for every request's handler.
  Span& v = in_->headers.back().value;
  std::string_view value = trim_ows({in_->data.get() + v.offset, v.length});
  v = Span{offset_of(value.data()), static_cast<uint32_t>(value.size())};
  return 0;
}

int Connection::on_headers_complete() noexcept {
  head_done_ = true;
  // check_head() needs the position of the end of the head. A request without a body ends
  // there, so the pause at its end serves; one with a body must be checked before the body
  // is read (413, 100-continue): pause here.
  if ((parser()->flags & F_CHUNKED) == 0 && parser()->content_length == 0) return 0;
  pause_ = Pause::head;
  return HPE_PAUSED;
}

// A Content-Length body: one run of the buffer, however many reads it took (chunked bodies
// are decoded by decode_chunked(), not here).
int Connection::on_body(const char* at, size_t length) noexcept {
  Span& body = in_->body;
  if (body.length + length > shared_.limits.max_body_bytes) return reject(413, "body too large");
  if (body.length == 0) body.offset = offset_of(at);
  body.length += static_cast<uint32_t>(length);
  return 0;
}

int Connection::on_message_complete() noexcept {
  pause_ = Pause::message;
  return HPE_PAUSED;  // one request at a time: dispatch() runs before the next is parsed
}

// --- Requests and responses ---------------------------------------------------------------

// Checks the complete head before any body is read. llhttp is strict, but it accepts bare
// LF line endings and space before the colon, which RFC 9112 tells servers to reject; and
// Host, Expect and body size are ours to judge.
void Connection::check_head() noexcept {
  ReadBuffer& b = *in_;
  const char* data = b.data.get();
  if (b.head_end - b.line_start > max_head_wire_bytes()) return fail(431);
  if (!strict_line_endings(data + b.head_start, data + b.head_end)) return fail(400);
  // RFC 9112 section 3: method SP request-target SP HTTP-version, single spaces.
  if (b.target.offset != b.method.end() + 1 || data[b.target.end()] != ' ' ||
      data[b.target.end() + 1] == ' ')
    return fail(400);
  // No whitespace or control byte inside the target (llhttp lets a tab through).
  for (const char* p = data + b.target.offset; p < data + b.target.end(); ++p)
    if (static_cast<unsigned char>(*p) <= ' ' || *p == 0x7f) return fail(400);
  if (parser()->http_major == 0) return fail(400);  // no version: an HTTP/0.9 line
  // RFC 9112 section 3.2.4: the asterisk form is for OPTIONS only.
  if (b.target.length == 1 && data[b.target.offset] == '*' && parser()->method != HTTP_OPTIONS)
    return fail(400);
  if (parser()->http_major != 1) return fail(505);
  int hosts = 0;
  std::string_view host;
  std::string_view expect;
  for (const HeaderSpan& h : b.headers) {  // values come trimmed (on_header_value_complete)
    std::string_view name(data + h.name.offset, h.name.length);
    // RFC 9110 section 5.1: a token. llhttp 8 lets spaces into a name ("A B", "Host :").
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) return fail(400);
    if (iequals(name, "Host")) {
      ++hosts;
      host = {data + h.value.offset, h.value.length};
    } else if (iequals(name, "Transfer-Encoding")) {
      // RFC 9112 section 6.1: in HTTP/1.0 the framing is faulty. An HTTP/1.0 hop would have
      // framed the body otherwise, so no reading of it is safe: refused, and the connection
      // closed, before any of it is taken for a request.
      if (parser()->http_minor == 0) return fail(400);
      // llhttp accepts "gzip, chunked" and would hand over a body still gzipped: we decode
      // no coding but chunked (RFC 9112 section 6.1: 501).
      if (!iequals({data + h.value.offset, h.value.length}, "chunked")) return fail(501);
    } else if (iequals(name, "Expect")) {
      expect = {data + h.value.offset, h.value.length};
    }
  }
  // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in 1.0, a valid value.
  if (hosts > 1 || (hosts == 0 && parser()->http_minor >= 1) || !valid_host(host)) return fail(400);
  bool chunked = (parser()->flags & F_CHUNKED) != 0;
  if (!chunked && parser()->content_length > shared_.limits.max_body_bytes) return fail(413);
  head_.method = parser()->method;
  head_.major = parser()->http_major;
  head_.minor = parser()->http_minor;
  head_.keep_alive = llhttp_should_keep_alive(parser()) != 0;
  if (!expect.empty()) {
    if (!iequals(expect, "100-continue")) return fail(417);
    bool has_body = chunked || parser()->content_length > 0;
    // Ask for the body only when none of it is here yet and the client speaks 1.1.
    if (has_body && parser()->http_minor >= 1 && b.parsed == b.length) {
      prepare_output();
      out_.append(k100Continue);
    }
  }
  // CONNECT has no body in llhttp's reading (what follows its head would be the tunnel), so
  // neither in ours.
  if (chunked && parser()->method != HTTP_CONNECT) {
    in_chunked_body_ = true;
    const Limits& l = shared_.limits;
    chunked_.start({l.max_body_bytes, l.max_header_bytes, l.max_chunk_line_bytes,
                    l.max_chunk_extension_bytes});
    b.body = Span{b.head_end, 0};
  }
}

void Connection::dispatch() noexcept {
  ReadBuffer& b = *in_;
  const char* data = b.data.get();

  size_t count = b.headers.size();
  if (count > shared_.headers.size()) {
    // The largest head so far: the views' array grows once, then serves every later one.
    try {
      shared_.headers.resize(count);
    } catch (const std::bad_alloc&) {
      return fail(431);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    const HeaderSpan& h = b.headers[i];
    shared_.headers[i] = {std::string_view(data + h.name.offset, h.name.length),
                          std::string_view(data + h.value.offset, h.value.length)};
  }
  std::string_view method(data + b.method.offset, b.method.length);
  std::string_view body(data + b.body.offset, b.body.length);
  bool keep_alive = head_.keep_alive;
  Request& request = shared_.request;
  request.set(method, {data + b.target.offset, b.target.length}, head_.major, head_.minor,
              {shared_.headers.data(), count}, body, keep_alive);
  Response& response = shared_.response;
  response.clear();

  bool failed = false;
  if (head_.method == HTTP_CONNECT) {
    // A 2xx to CONNECT would promise a tunnel (RFC 9110 section 9.3.6); we are no proxy.
    response.status = 501;
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body.assign("501 Not Implemented\n");
  } else {
    try {
      shared_.handler(request, response);
    } catch (const std::exception& e) {
      failed = true;
      if (shared_.error_log) shared_.error_log->error("handler failed: ", e.what());
    } catch (...) {
      failed = true;
      if (shared_.error_log) shared_.error_log->error("handler failed: ", "unknown exception");
    }
  }
  ++shared_.stats.requests;
  if (failed) {
    ++shared_.stats.handler_errors;
    in_message_ = false;
    respond(500, "500 Internal Server Error\n", true);
    return;
  }
  bool close = !keep_alive || shared_.draining || response.closes_connection();
  using Framing = ResponseContext::Framing;
  Framing framing = Framing::length;
  if (response.streaming()) {
    framing = head_.minor >= 1 ? Framing::chunked : Framing::until_close;
    if (framing == Framing::until_close) close = true;
  }
  ResponseContext context{shared_.date.now(shared_.reactor.now_ms()),
                          shared_.server_name,
                          method,
                          close,
                          keep_alive && head_.minor == 0 && !close,
                          framing};
  try {
    prepare_output();
    serialize(response, context, out_);
    if (response.streaming() && !response_has_no_body(response.status, method)) {
      stream_ =
          std::make_shared<Stream>(*this, response.take_producer(), framing == Framing::chunked);
      stream_->self = stream_;
      if (framing == Framing::until_close) close = false;  // finish_stream() closes
    }
  } catch (const std::bad_alloc&) {
    close_after_write_ = stop_parsing_ = true;
    in_message_ = false;
    return;
  }
  in_message_ = false;
  answered_any_ = true;
  if (close) {
    // Whatever follows this request is never processed (llhttp would report it as an error).
    stop_parsing_ = close_after_write_ = true;
    linger_ = b.parsed < b.length;
  }
}

void Connection::respond(int status, std::string_view body, bool close) noexcept {
  Response& response = shared_.response;
  response.clear();
  response.status = status;
  try {
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body.assign(body);
    prepare_output();
    serialize(response, {shared_.date.now(), shared_.server_name, "GET", close, false}, out_);
  } catch (const std::bad_alloc&) {
  }
  answered_any_ = true;
  if (close) stop_parsing_ = close_after_write_ = linger_ = true;
}

// An error the client caused: answer it and close, reading nothing more as requests.
void Connection::fail(int status) noexcept {
  if (stop_parsing_) return;
  ++shared_.stats.client_errors;
  in_message_ = false;
  char body[64];
  std::string_view text = status_text(status);
  size_t n = format_decimal(static_cast<uint64_t>(status), body);
  body[n++] = ' ';
  std::memcpy(body + n, text.data(), text.size());
  n += text.size();
  body[n++] = '\n';
  respond(status, {body, n}, true);
}

bool Connection::write_out() noexcept {
  if (detached_) return !closed();
  bool progressed = false;
  while (out_sent_ < out_.size()) {
    size_t left = out_.size() - out_sent_;
    ssize_t n = ::send(fd_.get(), out_.data() + out_sent_, left, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
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
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  } else if (progressed || state_ != State::writing) {
    enter(State::writing, shared_.limits.write_timeout_ms);
  }
  return true;
}

// Decides what the connection waits for next, after a round of reading, parsing and writing.
void Connection::settle() noexcept {
  if (out_sent_ < out_.size()) {
    if (state_ != State::writing) enter(State::writing, shared_.limits.write_timeout_ms);
    return;
  }
  if (stream_) {  // waiting for the producer: its waker brings us back
    if (state_ != State::streaming) enter(State::streaming, 0);
    return;
  }
  if (close_after_write_) {
    if (!linger_ || eof_) return close();
    // Unread input may remain: closing now could reset the connection before the client has
    // read our answer. Stop sending, discard what comes, close at EOF or after a while.
    ::shutdown(fd_.get(), SHUT_WR);
    release_buffers();
    enter(State::lingering, shared_.limits.linger_timeout_ms);
    discard_input();
    return;
  }
  if (eof_) return close();  // everything the client sent is answered (or cut short)
  if (in_message_ || refused_error_ != 0 || (in_ && in_->parsed < in_->length)) {
    if (state_ != State::reading) enter(State::reading, shared_.limits.header_timeout_ms);
    return;
  }
  // Idle: nothing buffered, nothing to send. Give the buffers back to the pool.
  release_buffers();
  if (!answered_any_) {
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
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close();  // EOF or error: the client has everything we sent
    return;
  }
}

void Connection::on_timeout() noexcept {
  ++shared_.stats.timeouts;
  if (state_ == State::reading && in_message_ && !head_done_) {
    // Bytes came but no complete head: tell the client why before closing (RFC 9110 15.5.9).
    fail(408);
    write_out();
  }
  close();
}

void Connection::drain() noexcept {
  if (closed()) return;
  bool busy =
      in_message_ || stream_ || out_sent_ < out_.size() || (in_ && in_->parsed < in_->length);
  // A request the client has sent but we have not read yet is in flight too.
  char byte;
  if (!busy && fd_ && ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1) busy = true;
  if (!busy || state_ == State::lingering) close();
}

void Connection::take_pooled_output() noexcept {
  std::string pooled = shared_.pool.get_output();
  if (pooled.capacity() > out_.capacity()) out_.swap(pooled);
}

void Connection::release_buffers() noexcept {
  if (in_) shared_.pool.put_read(std::move(in_));
  in_.reset();
  if (out_.capacity() >= 64 && out_sent_ == out_.size()) {
    shared_.pool.put_output(out_);
    out_sent_ = 0;
  }
}

void Connection::close() noexcept {
  if (closed()) return;
  enter(State::closed, 0);
  if (stream_) {
    stream_->connection = nullptr;  // its waker becomes a no-op
    stream_.reset();
  }
  // close() drops the descriptor from the epoll set: no epoll_ctl(DEL) needed.
  shared_.reactor.forget(fd_.get());
  fd_.reset();
  release_buffers();
  if (shared_.on_closed) shared_.on_closed(*this);
}

}  // namespace hs
