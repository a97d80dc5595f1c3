// Exchange: one connection's HTTP/1.1 request loop, with no socket.
//
// Bytes in as reads bring them; response bytes, bodies sent from where they lie, and what to
// do next out. In between: the codec (request_codec.hpp) finds each request, the responder
// (responder.hpp) runs its handler and serializes its response, and the exchange keeps the
// order of pipelined responses, reads request bodies as they arrive (BodyReader, with pause,
// resume and stop), drives streamed responses (BodyWriter), waits for deferred ones
// (Response::defer), sends 100 Continue when a body is wanted, and decides when the
// connection closes, lingers or is handed over. In the spirit of h2o's http1 over
// picohttpparser and nghttp2's mem_recv/mem_send: the Connection (connection.hpp) does the
// system calls and keeps the deadlines, and the fuzzer, the benchmarks and the codec tests
// drive this very class, so what they test is what serves.
//
// A transport's round, as Connection::serve() runs it:
//   advance()                        answer what is buffered, run a stream's producer
//   read_room() / received(n)        while takes_input(): read into the buffer it lends
//   output(), tail() / sent(n)       write what it produced, in that order
//   next()                           what to wait for: more input, the client, a producer,
//                                    a body reader, a deferred response; or close, linger,
//                                    hand over
// A producer's waker, a body reader's resume and a deferred response's send() call
// ExchangeHost::wake(), on the reactor's thread, for another round.
//
// Threads: the reactor's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <httpserver/http.hpp>

#include "access_log.hpp"
#include "buffer_pool.hpp"
#include "deferred_state.hpp"
#include "exchange_shared.hpp"
#include "output_tail.hpp"
#include "request_codec.hpp"
#include "responder.hpp"
#include "traffic.hpp"

namespace hs {

// What an exchange asks of its transport.
class ExchangeHost {
 public:
  // Work is ready outside a round (a producer's waker, a body reader's resume, a deferred
  // response sent): run a round soon. Called on the reactor's thread, possibly from inside a
  // round, where it must only note the wish.
  virtual void wake() noexcept = 0;
  // A deferred response was sent: run a round once the current callback is over. Its send()
  // may come from inside another connection's handler, whose request and response are the
  // worker's scratch ones that a round here would reuse: so never a round at once.
  virtual void wake_soon() noexcept = 0;

 protected:
  ~ExchangeHost() = default;
};

class Exchange final : private DeferredOwner {
 public:
  // What the transport waits for once a round is over.
  enum class Next : uint8_t {
    write,      // output is pending: wait until the client takes it (write deadline)
    hand_over,  // the response that hands the connection over is out: take_over()
    paused,     // a body reader paused: read nothing until it resumes (no deadline)
    producer,   // a streamed response waits for its producer's waker (no deadline)
    deferred,   // a deferred response is not sent yet (response deadline)
    close,      // the last response is out: close
    linger,     // the last response is out, input may remain: linger, then close
    request,    // a request has begun and its head is incomplete (header deadline)
    body,       // a head is complete and its body is arriving (body deadline)
    fresh,      // nothing answered, nothing begun (header deadline, closes silently)
    idle,       // answered and kept alive, nothing begun: buffers released (idle deadline)
  };

  Exchange(ExchangeShared& shared, ExchangeHost& host) noexcept : shared_(shared), host_(host) {}
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // --- Input ---------------------------------------------------------------------------------
  // Whether the transport should read: no response holds the requests behind it, the client
  // keeps up with the output, and the connection is not ending.
  bool takes_input() const noexcept { return takes_requests() && !backpressured(); }
  // Room in the read buffer for the next read: at least 1 KiB; for a body, the rest of a
  // Content-Length body read whole, or a large piece of a streamed one. Empty when the
  // request in progress may not grow further: it has been answered 413 or 431.
  std::span<char> read_room() noexcept;
  // `n` bytes were read into read_room() at `now_ns`.
  void received(size_t n, uint64_t now_ns) noexcept;
  // The client sends nothing more: a request it began is answered 400 or abandoned.
  void received_eof() noexcept;

  // --- A round -------------------------------------------------------------------------------
  // Runs a streamed response's producer while the client keeps up, then answers the buffered
  // requests in order until one holds the rest (a stream, a tail, a body reader, a deferred
  // response) or the output reaches the high-water mark.
  void advance() noexcept;
  // Whether a deferred response has been sent and waits for advance() to serialize it.
  bool deferred_sent() const noexcept;
  // Whether advance() has more to do once output drains: a producer that can write more, or
  // buffered requests.
  bool more_to_do() const noexcept;
  // A producer threw after its head was sent, or memory ran out mid-response: close now.
  bool broken() const noexcept { return phase_ == Phase::broken; }

  // --- Output --------------------------------------------------------------------------------
  // The bytes to send next; then tail(), if any, once they are all sent.
  std::string_view output() const noexcept {
    return {out_.data() + out_sent_, out_.size() - out_sent_};
  }
  OutputTail* tail() noexcept { return tail_.get(); }
  // `n` bytes of output() were sent (and `tail_bytes` of the tail), at `now_ns`.
  void sent(size_t n, uint64_t tail_bytes, uint64_t now_ns) noexcept;
  bool output_pending() const noexcept { return out_sent_ < out_.size() || tail_; }
  bool backpressured() const noexcept {
    return out_.size() - out_sent_ >= shared_.settings.limits.output_high_water;
  }

  // --- What next -----------------------------------------------------------------------------
  Next next() noexcept;
  // What the connection's state means for a deadline of its own: a head begun, a body arriving.
  bool in_head() const noexcept { return codec_ && codec_->in_head(); }
  bool in_body() const noexcept { return codec_ && codec_->in_body(); }
  // A deadline passed while the client was sending a head or a body: 408 (RFC 9110 section
  // 15.5.9) and a body reader aborted; the transport then writes and closes.
  void timed_out(bool in_request) noexcept;
  // The deferred response was not sent in time: the server answers it 504 and goes on.
  void deferred_timed_out() noexcept;
  // Graceful shutdown: whether a request is in flight or an answer is still to go out.
  bool busy() const noexcept;
  // After Next::hand_over: what the response handed over, and what the client sent past it
  // (valid until close()).
  TakeOver take_over() noexcept { return std::move(*take_); }
  std::string_view unparsed() const noexcept;
  // The connection is closing: streams, readers and deferred responses are cut off, buffers
  // go back to the pools.
  void close() noexcept;
  // Between requests: gives the buffers back to the pools.
  void release_buffers() noexcept;
  // The peer's name for the access log.
  void set_remote(std::string_view remote) noexcept;

 private:
  // Where the exchange stands with the client.
  enum class Phase : uint8_t {
    fresh,       // nothing answered yet, no request begun
    kept_alive,  // answered, kept alive, no request begun
    in_request,  // a request has begun and is not answered (still arriving, or in its handler)
    finishing,   // the last response is queued: parse nothing more, close once it is sent
    finishing_unread,  // the same, but unread input may remain: linger before closing
    broken,            // close at once: a response cannot be completed
  };
  class Stream;    // the BodyWriter of a streamed response
  struct Upload;   // a request body given to a BodyReader as it arrives
  struct Waiting;  // a deferred response and what its request was
  friend class Stream;

  void deferred_ready() noexcept override;
  void pump() noexcept;
  void wake_stream() noexcept;
  void finish_stream() noexcept;
  void parse() noexcept;
  size_t wanted_room() const noexcept;
  bool make_room(size_t wanted) noexcept;
  void dispatch() noexcept;
  void conclude(Answer answer, Response& response) noexcept;
  void start_stream(bool chunked, Response& response) noexcept;
  void start_tail(Response& response) noexcept;
  void finish_tail() noexcept;
  void defer(std::string_view method, std::string_view request_id, bool body_unread,
             std::unique_ptr<PendingAccess> access) noexcept;
  void send_deferred() noexcept;
  void on_head() noexcept;
  void deliver(bool last) noexcept;
  void finish_upload(bool stopped) noexcept;
  void abort_upload(int status) noexcept;
  void resume_upload() noexcept;
  void fail(int status) noexcept;
  void fail_handler() noexcept;
  void take_buffers();
  void prepare_output() noexcept {
    if (out_.empty() && out_.capacity() < 64) take_pooled_output();
  }
  void take_pooled_output() noexcept;
  void account(const Answer& a) noexcept {
    if (!count_answer(shared_, a, codec_->head()) || !shared_.settings.time_requests) return;
    timer_->answered(a.streams || a.tail || a.deferred ? ResponseTimer::kOpen : out_.size());
    if (shared_.settings.access_log) [[unlikely]]
      access_answered(a);
  }
  std::string_view method_read() const noexcept;
  void count_request() noexcept {
    uint64_t limit = shared_.settings.limits.max_requests_per_connection;
    shared_.scratch.last_request = limit != 0 && ++answered_ >= limit;
    if (shared_.worker.ids) [[unlikely]]
      name_request();
  }
  void name_request() noexcept;
  std::string_view field_read(std::string_view name) const noexcept;
  void access_answered(const Answer& a) noexcept;
  void access_failed(int status, uint64_t bytes, std::string_view id) noexcept;
  std::string_view error_request_id() noexcept;
  void access_open_ended(uint64_t body_bytes) noexcept;
  void access_body_answered(const Answer& a, std::unique_ptr<PendingAccess> p) noexcept;
  void access_pending(const PendingAccess& p, int status, uint64_t bytes,
                      uint64_t duration_us) noexcept;
  static std::unique_ptr<PendingAccess> pending_access_of(const Request& q) noexcept;
  std::string_view remote() const noexcept { return remote_ ? *remote_ : std::string_view(); }
  uint64_t read_ns() const noexcept { return timer_ ? timer_->last_read_ns() : monotonic_ns(); }
  uint64_t microseconds_since_read() const noexcept { return (monotonic_ns() - read_ns()) / 1000; }

  bool parsing_stopped() const noexcept { return phase_ >= Phase::finishing; }
  // New requests are parsed and read: none is final yet, and no response holds the ones
  // behind it (they wait in the kernel, where TCP flow control bounds them).
  bool takes_requests() const noexcept {
    return !parsing_stopped() && !stream_ && !tail_ && !waiting_ && !upload_paused();
  }
  bool upload_paused() const noexcept;
  bool has_unparsed() const noexcept { return in_ && in_->parsed < in_->length; }

  ExchangeShared& shared_;
  ExchangeHost& host_;
  Phase phase_ = Phase::fresh;
  bool pumping_ = false;  // inside the producer: a wake-up only asks for another round
  bool rewake_ = false;
  bool dispatching_ = false;  // inside a handler or a reader: a deferred send waits for it
  std::unique_ptr<RequestCodec> codec_;  // held with in_, from the worker's free list
  std::unique_ptr<ReadBuffer> in_;
  std::string out_;
  size_t out_sent_ = 0;
  std::shared_ptr<Stream> stream_;    // set while a streamed response is being produced
  std::unique_ptr<TakeOver> take_;    // set once a response hands the connection over
  std::unique_ptr<Upload> upload_;    // set while a BodyReader reads the request body
  std::unique_ptr<OutputTail> tail_;  // a body sent from where it lies, after out_
  std::unique_ptr<Waiting> waiting_;  // a deferred response not sent yet
  // With settings.time_requests only, held with the read buffer: a connection that is not
  // timing anything (or is idle) pays 8 bytes for it, not 64.
  std::unique_ptr<ResponseTimer> timer_;
  uint64_t answered_ = 0;                // requests answered, for max_requests_per_connection
  std::unique_ptr<std::string> remote_;  // the peer's name, with the access log only
  std::unique_ptr<PendingAccess> pending_access_;  // a response that ends later, until it does
};

// The BodyWriter of a streamed response: writes into the exchange's output.
class Exchange::Stream final : public BodyWriter {
 public:
  Stream(Exchange& exchange, BodyProducer producer, bool chunked)
      : exchange(&exchange), producer(std::move(producer)), chunked(chunked) {}

  void write(std::string_view data) override;
  void end() override;
  bool ready() const override;
  std::function<void()> waker() override;

  Exchange* exchange;  // null once the exchange has closed
  BodyProducer producer;
  bool chunked;
  bool ended = false;
  bool wrote = false;  // the last call wrote something
  bool idle = false;   // the last call wrote nothing: wait for the waker
  uint64_t bytes = 0;  // of the body, as sent (chunk framing included)
  std::weak_ptr<Stream> self;
};

// A request body given to a BodyReader as it arrives.
struct Exchange::Upload {
  std::shared_ptr<BodyReader> reader;
  std::string method;  // the request's: its head is gone once the body streams
  // With the access log (or echoed ids): the head's fields its line needs.
  std::unique_ptr<PendingAccess> access;
  // What the reader's resumer reaches: this exchange until the upload is over, then null.
  std::shared_ptr<Exchange*> handle;
  bool paused = false;
  bool delivering = false;  // inside data(): a resume only cancels the pause to come
  bool resumed = false;
};

// A deferred response and what it needs of its request, whose views are gone by the time it is
// sent. Its cost while pending: this, the DeferredState (a Response) and their strings.
struct Exchange::Waiting {
  std::shared_ptr<DeferredState> state;
  std::string method;
  RequestCodec::Head head;
  std::string request_id;    // echoed with ServerOptions::echo_request_id
  bool body_unread = false;  // a handler that ran before its body deferred without reading it
};

inline bool Exchange::more_to_do() const noexcept {
  return (stream_ && !stream_->idle) || (takes_requests() && has_unparsed());
}

}  // namespace hs
