#include "exchange.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <exception>

#include "message_access.hpp"

namespace hs {

namespace {

// A read buffer with less room than this is compacted (or grown) before the next read.
constexpr size_t kMinReadRoom = 1024;

// As many free codecs and tails as the buffer pool keeps free read buffers.
constexpr size_t kMaxFree = 1024;

// The room a body read as it arrives gets for each read (see wanted_room()).
constexpr size_t kUploadReadBytes = 64 * 1024;

// The most room a body read whole gets before any of it has come: past this, its room grows
// with what has arrived (at most doubling), so that heads announcing large bodies and sending
// none do not reserve their whole Content-Length each.
constexpr size_t kBodyRoomAtOnce = 256 * 1024;

// Buffers sized for a body are rounded up to whole pages: those of bodies of about the same
// size come out the same, so the pool's free ones fit the next.
constexpr size_t kPageBytes = 4096;

constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

// Runs code of the host's that may throw (a producer, a reader, a predicate): true when it
// threw, reported to the error log as `what`.
template <typename Call>
bool host_threw(Logger* log, const char* what, Call&& call) noexcept {
  try {
    call();
    return false;
  } catch (const std::exception& e) {
    if (log) log->error(what, e.what());
  } catch (...) {
    if (log) log->error(what, "unknown exception");
  }
  return true;
}

}  // namespace

void Exchange::Stream::write(std::string_view data) {
  if (exchange == nullptr || ended || data.empty()) return;
  std::string& out = exchange->out_;
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

void Exchange::Stream::end() {
  if (exchange == nullptr || ended) return;
  ended = true;
  if (!chunked) return;
  exchange->out_.append("0\r\n\r\n");
  bytes += 5;
}

bool Exchange::Stream::ready() const { return exchange != nullptr && !exchange->backpressured(); }

std::function<void()> Exchange::Stream::waker() {
  std::weak_ptr<Stream> weak = self;
  return [weak] {
    if (auto stream = weak.lock(); stream && stream->exchange) stream->exchange->wake_stream();
  };
}

ExchangeWorker::ExchangeWorker(Reactor& r, const Limits& l)
    : reactor(r), pool(l.read_buffer_bytes, 64 * 1024, 1024) {
  codec_rules.max_header_bytes = l.max_header_bytes;
  codec_rules.max_target_bytes = l.max_target_bytes;
  codec_rules.max_body_bytes = l.max_body_bytes;
  codec_rules.max_chunk_line_bytes = l.max_chunk_line_bytes;
  codec_rules.max_chunk_extension_bytes = l.max_chunk_extension_bytes;
  free_codecs.reserve(kMaxFree);
  free_timers.reserve(kMaxFree);
}

ExchangeShared::ExchangeShared(Reactor& reactor, const Limits& limits, Handler handler,
                               Logger* error_log, std::string server_name)
    : worker(reactor, limits) {
  settings.limits = limits;
  settings.handler = std::move(handler);
  settings.error_log = error_log;
  settings.server_name = std::move(server_name);
}

Exchange::~Exchange() { close(); }

// --- Input ---------------------------------------------------------------------------------

std::span<char> Exchange::read_room() noexcept {
  if (!in_) {
    try {
      take_buffers();
    } catch (const std::bad_alloc&) {
      phase_ = Phase::broken;
      return {};
    }
  }
  // A streamed body's pieces were the reader's once given: drop them, so that each read gets
  // the whole room (nothing but a piece of chunk framing is ever left to move).
  if (upload_ && in_->parsed != 0) codec_->compact(*in_);
  size_t wanted = wanted_room();
  if (in_->capacity - in_->length < wanted && !make_room(wanted)) {
    fail(codec_->in_body() ? 413 : 431);
    return {};
  }
  return {in_->data.get() + in_->length, in_->capacity - in_->length};
}

void Exchange::received(size_t n, uint64_t now_ns) noexcept {
  in_->length += n;
  if (shared_.settings.time_requests) timer_->read_at(now_ns);
}

void Exchange::received_eof() noexcept {
  // A refused request line that will not be finished now.
  if (codec_ && codec_->finish() == RequestCodec::Result::error) fail(codec_->status());
}

// The room the next read should have. A Content-Length body read whole gets room for all of
// it at once, and a streamed one a large piece: the rest comes in one read or a few, with no
// buffer grown again and again (a copy each time) on the way. The extra kMinReadRoom makes
// the read that ends the body a short one (the socket is drained: no read only to hear
// EAGAIN), with room for a pipelined request's head behind it.
size_t Exchange::wanted_room() const noexcept {
  if (!codec_->in_body()) return kMinReadRoom;
  uint64_t left = codec_->body_bytes_left();
  if (upload_) return left != 0 && left < kUploadReadBytes ? left + kMinReadRoom : kUploadReadBytes;
  if (left == 0) return kMinReadRoom;  // a chunked body: its size is not known
  return std::min<uint64_t>(left, std::max(kBodyRoomAtOnce, in_->length)) + kMinReadRoom;
}

// Makes `wanted` bytes of room at the end of the read buffer: drops what no span needs any
// more, then gives the buffer a larger one if the request in progress still fills it. Only
// between two decode() calls: the codec holds no pointer into our buffer across calls. False
// when not even kMinReadRoom can be had.
bool Exchange::make_room(size_t wanted) noexcept {
  ReadBuffer& b = *in_;
  codec_->compact(b);
  if (b.capacity - b.length >= wanted) return true;
  // What the limits allow one request to need.
  const Limits& l = shared_.settings.limits;
  size_t most = l.max_target_bytes + l.max_header_bytes + l.max_body_bytes + 2 * kMinReadRoom +
                shared_.worker.pool.read_capacity();
  if (upload_) most = std::max(most, kUploadReadBytes + kPageBytes);
  // A body's rest or piece, whose size is known, gets its buffer at once, in whole pages; a
  // head or a chunked body, whose size is not, doubles it, so that a large one is copied a
  // few times only.
  bool sized = wanted > kMinReadRoom;
  size_t capacity = sized ? (b.length + wanted + kPageBytes - 1) / kPageBytes * kPageBytes
                          : std::max(b.capacity * 2, b.length + wanted);
  capacity = std::min(capacity, most);
  if (capacity > b.capacity && shared_.worker.pool.enlarge(b, capacity, most)) return true;
  return b.capacity - b.length >= kMinReadRoom;
}

// --- A round ---------------------------------------------------------------------------------

void Exchange::advance() noexcept {
  if (waiting_ && waiting_->state->sent) [[unlikely]]
    send_deferred();
  if (stream_) pump();
  if (broken()) return;
  if (takes_requests() && has_unparsed() && !backpressured()) parse();
}

// Kept small and inlined into parse(): every request's path ends here, and nearly every answer
// keeps the connection.
[[gnu::always_inline]] inline void Exchange::dispatch() noexcept {
  prepare_output();
  count_request();
  Answer a = answer(shared_, *in_, codec_->head(), out_);
  account(a);
  if (a.outcome != Answer::Outcome::keep_alive) [[unlikely]]
    return conclude(a, shared_.scratch.response);
  phase_ = Phase::kept_alive;
  if (a.streams) start_stream(a.chunked, shared_.scratch.response);
  if (a.tail) [[unlikely]]
    start_tail(shared_.scratch.response);
}

// An answer that is not a plain keep-alive one: it ends the connection, holds what follows,
// or is none at all.
void Exchange::conclude(Answer a, Response& response) noexcept {
  switch (a.outcome) {
    case Answer::Outcome::keep_alive:
      phase_ = Phase::kept_alive;
      break;
    case Answer::Outcome::close:
      // Whatever follows a request that closes is never processed (it may not even be HTTP).
      phase_ = has_unparsed() ? Phase::finishing_unread : Phase::finishing;
      break;
    case Answer::Outcome::handler_threw:
    case Answer::Outcome::body_unread:
      phase_ = Phase::finishing_unread;
      if (a.outcome == Answer::Outcome::handler_threw) return;
      break;
    case Answer::Outcome::reads_body:  // on_head() takes it
      return;
    case Answer::Outcome::no_memory:
      phase_ = Phase::finishing;
      return;
    case Answer::Outcome::head_too_big:
      return fail(431);
    case Answer::Outcome::deferred: {
      const Request& q = shared_.scratch.request;
      std::unique_ptr<PendingAccess> access;
      if (shared_.settings.access_log) access = pending_access_of(q);
      return defer(q.method(), q.request_id(), codec_->in_body(), std::move(access));
    }
    case Answer::Outcome::take_over:
      // Nothing after this request is ours to parse: it is the new protocol's.
      phase_ = Phase::finishing;
      try {
        take_ = std::make_unique<TakeOver>(ResponseAccess::release_take_over(response));
      } catch (const std::bad_alloc&) {
      }
      // Its head promised a body that lies elsewhere: it goes out before the hand-over
      // (next() says write while a tail is left). Only a handler takes over: the request is
      // the scratch one still.
      if (response.body_elsewhere() &&
          !response_has_no_body(response.status, shared_.scratch.request.method()))
        start_tail(response);
      return;
  }
  if (a.streams) start_stream(a.chunked, response);
  if (a.tail) start_tail(response);
}

void Exchange::start_stream(bool chunked, Response& response) noexcept {
  try {
    stream_ = std::make_shared<Stream>(*this, ResponseAccess::take_producer(response), chunked);
    stream_->self = stream_;
  } catch (const std::bad_alloc&) {
    phase_ = Phase::broken;  // the head promised a body
  }
}

// Answers each request the codec finds, in order, while the client keeps up with the answers.
void Exchange::parse() noexcept {
  while (takes_requests() && !backpressured()) {
    RequestCodec::Result result = codec_->decode(*in_);
    if (codec_->began()) phase_ = Phase::in_request;
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
void Exchange::on_head() noexcept {
  const RequestCodec::Head& head = codec_->head();
  if (!present_head(shared_, *in_, head)) return fail(431);
  bool streams = false;
  auto& stream_body = shared_.settings.stream_body;
  if (stream_body && host_threw(shared_.settings.error_log, "stream_body failed: ", [&] {
        streams = stream_body(shared_.scratch.request);
      }))
    return fail_handler();
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
  Response& response = shared_.scratch.response;
  Answer a = answer_head(shared_, head, out_);
  if (a.outcome != Answer::Outcome::reads_body) {
    account(a);
    return conclude(a, response);
  }
  try {
    auto upload = std::make_unique<Upload>();
    upload->reader = ResponseAccess::release_reader(response);
    upload->method.assign(shared_.scratch.request.method());
    if (shared_.worker.ids) upload->access = pending_access_of(shared_.scratch.request);
    upload->handle = std::make_shared<Exchange*>(this);
    std::weak_ptr<Exchange*> handle = upload->handle;
    ResponseAccess::set_resumer(*upload->reader, [handle] {
      if (auto h = handle.lock(); h && *h) (*h)->resume_upload();
    });
    upload_ = std::move(upload);
  } catch (const std::bad_alloc&) {
    return fail_handler();
  }
  // The client waits for this before it sends the body, now that someone reads it.
  if (head.expect_continue) out_.append(k100Continue);
}

bool Exchange::upload_paused() const noexcept { return upload_ && upload_->paused; }

// The codec's next piece of a streamed body (the buffer's body span) to the reader; `last`:
// the body is complete with it.
void Exchange::deliver(bool last) noexcept {
  Upload& upload = *upload_;
  std::string_view piece(in_->data.get() + in_->body.offset, in_->body.length);
  BodyReader::Next next = BodyReader::Next::more;
  if (!piece.empty()) {
    upload.delivering = true;
    upload.resumed = false;
    bool threw = host_threw(shared_.settings.error_log,
                            "body reader failed: ", [&] { next = upload.reader->data(piece); });
    upload.delivering = false;
    if (threw) return fail_handler();
  }
  if (last) return finish_upload(false);
  if (next == BodyReader::Next::stop) return finish_upload(true);
  if (next == BodyReader::Next::pause && !upload.resumed) upload.paused = true;
}

// The body is complete, or the reader said stop (`stopped`): the reader answers.
void Exchange::finish_upload(bool stopped) noexcept {
  std::unique_ptr<Upload> upload = std::move(upload_);
  *upload->handle = nullptr;
  prepare_output();
  // Other connections' requests came between: the limit is this one's again.
  uint64_t limit = shared_.settings.limits.max_requests_per_connection;
  shared_.scratch.last_request = limit != 0 && answered_ >= limit;
  shared_.scratch.answer_from = out_.size();
  std::string_view id = upload->access ? std::string_view(upload->access->request_id) : "";
  Response& response = shared_.scratch.response;
  Answer a = answer_body(shared_, *upload->reader, upload->method, codec_->head(), stopped,
                         shared_.settings.echo_request_id ? id : "", out_);
  if (a.outcome == Answer::Outcome::deferred) {
    // Counted, timed and logged when it is sent, by the upload's method: the scratch request
    // is another request's by now.
    if (shared_.settings.time_requests) timer_->answered(ResponseTimer::kOpen);
    std::string_view method = upload->method;
    return defer(method, id, stopped,
                 shared_.settings.access_log ? std::move(upload->access) : nullptr);
  }
  if (a.outcome != Answer::Outcome::no_memory) {
    count_response(shared_.worker.stats.traffic, upload->method, response.status);
    if (shared_.settings.time_requests)
      timer_->answered(a.streams || a.tail ? ResponseTimer::kOpen : out_.size());
    if (shared_.settings.access_log && upload->access) [[unlikely]]
      access_body_answered(a, std::move(upload->access));
  }
  if (a.outcome != Answer::Outcome::keep_alive) return conclude(a, response);
  phase_ = Phase::kept_alive;
  if (a.streams) start_stream(a.chunked, response);
  if (a.tail) start_tail(response);
}

void Exchange::abort_upload(int status) noexcept {
  if (!upload_) return;
  std::unique_ptr<Upload> upload = std::move(upload_);
  *upload->handle = nullptr;
  upload->reader->abort(status);
}

void Exchange::resume_upload() noexcept {
  if (!upload_) return;
  if (upload_->delivering) {  // before data() has even returned pause
    upload_->resumed = true;
    upload_->paused = false;
    return;
  }
  if (!upload_->paused) return;
  upload_->paused = false;
  host_.wake();
}

// --- Streamed responses ---------------------------------------------------------------------

void Exchange::pump() noexcept {
  if (pumping_) {  // the producer called its waker itself: one more round
    rewake_ = true;
    return;
  }
  while (stream_ && !backpressured()) {
    std::shared_ptr<Stream> stream = stream_;  // the producer may close the connection
    stream->wrote = false;
    stream->idle = false;
    rewake_ = false;
    pumping_ = true;
    prepare_output();
    // The head is gone already: no 500 is possible. A throw cuts the body short.
    bool threw = host_threw(shared_.settings.error_log,
                            "stream producer failed: ", [&] { stream->producer(*stream); });
    pumping_ = false;
    if (threw) {
      phase_ = Phase::broken;
      return;
    }
    if (!stream_) return;  // closed from inside the producer
    if (stream->ended) return finish_stream();
    if (!stream->wrote && !rewake_) {  // nothing yet: waits for its waker
      stream->idle = true;
      return;
    }
  }
}

void Exchange::finish_stream() noexcept {
  bool chunked = stream_->chunked;
  if (shared_.settings.time_requests) timer_->ended(out_.size());
  if (pending_access_) access_open_ended(stream_->bytes);
  stream_->exchange = nullptr;
  stream_.reset();
  // HTTP/1.0 has no chunks: closing the connection ends the body.
  if (!chunked && phase_ != Phase::finishing_unread) phase_ = Phase::finishing;
}

void Exchange::wake_stream() noexcept {
  if (pumping_) {
    rewake_ = true;
    return;
  }
  if (!stream_) return;
  stream_->idle = false;
  host_.wake();
}

// --- Bodies sent from where they lie (output_tail.hpp) -------------------------------------

// The response's body elsewhere becomes this exchange's tail, sent once out_ is.
void Exchange::start_tail(Response& response) noexcept {
  std::unique_ptr<OutputTail> tail;
  auto& free_tails = shared_.worker.free_tails;
  if (!free_tails.empty()) {
    tail = std::move(free_tails.back());
    free_tails.pop_back();
  } else {
    try {
      tail = std::make_unique<OutputTail>();
    } catch (const std::bad_alloc&) {
      phase_ = Phase::broken;  // the head promised a body we cannot send
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

void Exchange::finish_tail() noexcept {
  std::unique_ptr<OutputTail> tail = std::move(tail_);
  if (shared_.settings.time_requests) timer_->ended(out_.size());
  tail->clear();
  auto& free_tails = shared_.worker.free_tails;
  if (free_tails.size() < kMaxFree) {
    try {
      free_tails.push_back(std::move(tail));
    } catch (const std::bad_alloc&) {
    }
  }
}

// --- Output ----------------------------------------------------------------------------------

void Exchange::sent(size_t n, uint64_t tail_bytes, uint64_t now_ns) noexcept {
  out_sent_ += n;
  if (tail_ && tail_bytes != 0) {
    tail_->offset += tail_bytes;
    tail_->left -= tail_bytes;
    if (tail_->left == 0 && out_sent_ == out_.size()) finish_tail();
  }
  if (shared_.settings.time_requests && (n != 0 || tail_bytes != 0) && timer_->completes(out_sent_))
    timer_->sent(out_sent_, now_ns, shared_.worker.stats.traffic);
  if (out_sent_ == out_.size() && !tail_) {
    out_.clear();
    out_sent_ = 0;
  }
}

// --- Errors the exchange answers itself ------------------------------------------------------

// An error the client caused: answer it and close, reading nothing more as requests. Unread
// input may remain: the connection lingers before closing.
void Exchange::fail(int status) noexcept {
  if (parsing_stopped()) return abort_upload(status);
  count_response(shared_.worker.stats.traffic, method_read(), status);
  prepare_output();
  size_t from = out_.size();
  std::string_view id;
  if (shared_.worker.ids) [[unlikely]]
    id = error_request_id();
  answer_error(shared_, status, out_, shared_.settings.echo_request_id ? id : std::string_view());
  if (shared_.settings.access_log) [[unlikely]]
    access_failed(status, out_.size() - from, id);
  abort_upload(status);  // after the access line, which reads the upload's head
  phase_ = Phase::finishing_unread;
}

// Code of the host's threw outside a handler call (stream_body, a body reader): 500, and close.
void Exchange::fail_handler() noexcept {
  if (parsing_stopped()) return abort_upload(500);
  count_response(shared_.worker.stats.traffic, method_read(), 500);
  prepare_output();
  size_t from = out_.size();
  std::string_view id;
  if (shared_.worker.ids) [[unlikely]]
    id = error_request_id();
  answer_handler_error(shared_, out_, shared_.settings.echo_request_id ? id : std::string_view());
  if (shared_.settings.access_log) [[unlikely]]
    access_failed(500, out_.size() - from, id);
  abort_upload(500);
  phase_ = Phase::finishing_unread;
}

void Exchange::timed_out(bool in_request) noexcept {
  abort_upload(408);
  if (in_request) fail(408);
}

// --- What next ---------------------------------------------------------------------------------

Exchange::Next Exchange::next() noexcept {
  if (out_sent_ < out_.size() || tail_) return Next::write;
  if (broken()) return Next::close;
  if (take_) return Next::hand_over;
  if (upload_paused()) return Next::paused;
  if (stream_) return Next::producer;
  if (waiting_) return Next::deferred;
  if (parsing_stopped()) return phase_ == Phase::finishing ? Next::close : Next::linger;
  if (phase_ == Phase::in_request || has_unparsed())
    return codec_ && codec_->in_body() ? Next::body : Next::request;
  // Idle: nothing buffered, nothing to send. Give the buffers back to the pool.
  release_buffers();
  if (phase_ == Phase::fresh) return Next::fresh;
  return shared_.worker.draining ? Next::close : Next::idle;
}

bool Exchange::busy() const noexcept {
  return phase_ == Phase::in_request || stream_ || upload_ || tail_ || waiting_ ||
         out_sent_ < out_.size() || has_unparsed();
}

std::string_view Exchange::unparsed() const noexcept {
  if (!has_unparsed()) return {};
  return {in_->data.get() + in_->parsed, in_->length - in_->parsed};
}

void Exchange::close() noexcept {
  abort_upload(0);
  take_.reset();  // a response that was to hand over, never sent: the client is gone
  if (tail_) tail_.reset();
  if (stream_) {
    if (pending_access_) access_open_ended(stream_->bytes);  // cut short: what it sent
    stream_->exchange = nullptr;                             // its waker becomes a no-op
    stream_.reset();
  }
  if (waiting_) {
    waiting_->state->owner = nullptr;
    waiting_->state->gone = true;  // pending() is false; a send does nothing
    waiting_.reset();
  }
  pending_access_.reset();
  release_buffers();
  if (out_.capacity() >= 64) {
    out_.clear();
    out_sent_ = 0;
    shared_.worker.pool.put_output(out_);
  }
  phase_ = Phase::broken;
}

std::string_view Exchange::method_read() const noexcept {
  // A body read as it arrives keeps no spans of its head: the upload keeps the method.
  if (upload_) return upload_->method;
  // The codec resets the spans when a request begins: this is the current one's, possibly
  // cut short (a partial method counts as another method).
  if (!in_) return {};
  return {in_->data.get() + in_->method.offset, in_->method.length};
}

void Exchange::take_pooled_output() noexcept {
  std::string pooled = shared_.worker.pool.get_output();
  if (pooled.capacity() > out_.capacity()) out_.swap(pooled);
}

// A read buffer and a codec to parse it, from the pools (allocated when they are empty).
void Exchange::take_buffers() {
  in_ = shared_.worker.pool.get_read();
  auto& free_codecs = shared_.worker.free_codecs;
  if (free_codecs.empty()) {
    codec_ = std::make_unique<RequestCodec>(shared_.worker.codec_rules);
  } else {
    codec_ = std::move(free_codecs.back());
    free_codecs.pop_back();
  }
  if (shared_.settings.time_requests && !timer_) {
    auto& free_timers = shared_.worker.free_timers;
    if (free_timers.empty()) {
      timer_ = std::make_unique<ResponseTimer>();
    } else {
      timer_ = std::move(free_timers.back());
      free_timers.pop_back();
    }
  }
}

void Exchange::release_buffers() noexcept {
  if (in_) shared_.worker.pool.put_read(std::move(in_));
  in_.reset();
  if (codec_) {
    if (!codec_->at_rest()) codec_->reset();
    auto& free_codecs = shared_.worker.free_codecs;
    if (free_codecs.size() < kMaxFree) free_codecs.push_back(std::move(codec_));  // reserved
    codec_.reset();
  }
  if (out_.capacity() >= 64 && out_sent_ == out_.size()) {
    shared_.worker.pool.put_output(out_);
    out_sent_ = 0;
  }
  if (timer_) {
    timer_->forget();
    auto& free_timers = shared_.worker.free_timers;
    if (free_timers.size() < kMaxFree) free_timers.push_back(std::move(timer_));  // reserved
    timer_.reset();
  }
}

}  // namespace hs
