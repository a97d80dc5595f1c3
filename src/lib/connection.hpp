// Connection: one HTTP/1.1 client, from accept to close.
//
// Reads with one read() per readiness until a short read, hands the bytes to its RequestCodec
// (request_codec.hpp: the grammar), answers each complete request in order through the
// Responder (responder.hpp: handler and serialization), and writes every response of a batch
// with one send(). Keeps the connection alive as HTTP/1.1 says, answers what the codec refuses
// with its status and closes, and enforces per-state deadlines. Where it stands is two small
// enums (Phase: the exchange with the client; Peer: what the kernel may still hold),
// beside the deadline State below.
//
// Lifetime: created by the Server for an accepted descriptor, registered with the reactor
// edge-triggered for reading and writing once (no epoll_ctl afterwards). A connection that
// closes itself calls ConnectionShared::on_closed from inside its own callback; the owner must
// free it only after that callback has returned.
//
// States and their deadlines (all connections in one state share a timeout, so each state's
// list is ordered by deadline):
//   reading    a request has begun, or none has been answered yet: header_timeout, from the
//              first byte (408 on expiry if any byte came, else a silent close)
//   reading_body  the head is complete, its body is arriving: body_timeout, re-armed by every
//              read that brings bytes (408 on expiry)
//   idle       between requests on a kept-alive connection: idle_timeout, silent close
//   writing    output the client is not reading fast enough: write_timeout, re-armed by progress
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

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <httpserver/http.hpp>
#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/options.hpp>
#include <httpserver/reactor.hpp>

#include "access_log.hpp"
#include "buffer_pool.hpp"
#include "list.hpp"
#include "output_tail.hpp"
#include "request_codec.hpp"
#include "request_id.hpp"
#include "responder.hpp"
#include "serialize.hpp"
#include "traffic.hpp"
#include "unique_fd.hpp"

namespace hs {

class Connection;

// What all connections of one reactor share. Owned by the Server.
struct ConnectionShared {
  ConnectionShared(Reactor& reactor, const Limits& limits, Handler handler, Logger* error_log,
                   std::string server_name);

  Reactor& reactor;
  Limits limits;
  Handler handler;
  std::function<bool(const Request&)> stream_body;  // ServerOptions::stream_body
  Logger* error_log;  // handler exceptions are reported here; may be null
  std::string server_name;

  List reading, reading_body, idle, writing, lingering;  // by state, each ordered by deadline
  BufferPool pool;
  DateCache date;
  Request request;         // filled for each request in turn
  Response response;       // reused: its strings keep their capacity
  CodecRules codec_rules;  // `limits` as the request codecs apply them, and the Host memo
  // Codecs not in use. A connection holds one only while it holds a read buffer, so an idle
  // connection costs no parser state; nor does a warm server allocate one per request.
  std::vector<std::unique_ptr<RequestCodec>> free_codecs;
  std::vector<Header> headers;  // the views handed to the handler; grows with the largest head
  // Tails not in use (bodies sent from where they lie): no allocation per file response.
  std::vector<std::unique_ptr<OutputTail>> free_tails;
  ConnectionStats stats;
  bool time_requests = false;       // ServerOptions::time_requests (or access_log)
  Logger* access_log = nullptr;     // ServerOptions::access_log: its lines go here
  std::unique_ptr<RequestIds> ids;  // when requests get ids (access log, echo_request_id)
  bool echo_request_id = false;     // ServerOptions::echo_request_id
  size_t answer_from = 0;           // where in its output the response being answered begins
  bool draining = false;            // every response says "Connection: close"
  // The request being answered is its connection's last (Limits::max_requests_per_connection):
  // its response says "Connection: close". Set by the connection before each answer().
  bool last_request = false;
  std::function<void(Connection&)> on_closed;
};

// Counts what answer() produced in shared.stats.traffic (method, status class); false when
// it produced no response. The connection calls it after each answer(), and so does the
// hot-path benchmark, so that it measures what a server runs.
// The codec labelled the method as it parsed it (RequestCodec::Head::method): no second look.
inline bool count_answer(ConnectionShared& shared, const Answer& a,
                         const RequestCodec::Head& head) noexcept {
  if (a.outcome == Answer::Outcome::no_memory || a.outcome == Answer::Outcome::head_too_big)
    return false;
  count_response(shared.stats.traffic, head.method, shared.response.status);
  return true;
}

// A Connection is the ListLink of its state's deadline list (as an h2o socket embeds its
// links), so the owner gets from a list entry back to the connection without a lookup.
class Connection final : public IoHandler, private ListLink {
 public:
  enum class State { reading, reading_body, idle, writing, lingering, streaming, paused, closed };

  // Registers `fd` with the reactor. Check closed() afterwards: registration can fail.
  Connection(ConnectionShared& shared, UniqueFd fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void on_io(uint32_t events) noexcept override;

  // Called by the owner when the deadline of this connection's state has passed.
  void on_timeout() noexcept;
  // Graceful shutdown: closes an idle connection now; a busy one closes after the response
  // to the request in flight, which says "Connection: close".
  void drain() noexcept;
  // Closes at once; in-flight work is lost.
  void close() noexcept;

  State state() const noexcept { return state_; }
  bool closed() const noexcept { return state_ == State::closed; }
  int fd() const noexcept { return fd_.get(); }
  // The descriptor number it was created with, still known after close(): the owner's index.
  int slot() const noexcept { return slot_; }
  uint64_t deadline_ms() const noexcept { return deadline_ms_; }
  static Connection& from_link(ListLink* link) noexcept;

 private:
  // Where the connection stands in its exchange with the client.
  enum class Phase : uint8_t {
    fresh,       // nothing answered yet, no request begun: the header deadline runs
    kept_alive,  // answered, kept alive, no request begun
    in_request,  // a request has begun and is not answered (still arriving, or in its handler)
    finishing,   // the last response is queued: parse nothing more, close once it is sent
    finishing_unread,  // the same, but unread input may remain: linger before closing
  };
  // What the kernel may still hold of what the client sends.
  enum class Peer : uint8_t {
    drained,   // read to a short read: edge-triggered epoll reports what comes next
    readable,  // bytes may be waiting
    shut,      // the client shut down its side: read on to the EOF, no other edge follows
    gone,      // EOF read: the client will send nothing more
  };
  class Stream;  // the BodyWriter of a streamed response
  friend class Stream;
  struct Upload;  // a request body given to a BodyReader as it arrives

  void serve() noexcept;
  void pump() noexcept;         // calls the stream's producer while the client keeps up
  void wake_stream() noexcept;  // BodyWriter::waker()
  void finish_stream() noexcept;
  void parse() noexcept;
  void begin_request() noexcept {
    phase_ = Phase::in_request;
    if (state_ != State::reading) enter(State::reading, shared_.limits.header_timeout_ms);
  }
  bool read_some() noexcept;  // false when there is nothing more to read now
  bool make_room() noexcept;
  bool write_out() noexcept;  // false when the connection closed
  void settle() noexcept;
  void enter(State state, uint64_t timeout_ms) noexcept;
  void dispatch() noexcept;
  void conclude(Answer answer) noexcept;
  void start_stream(bool chunked) noexcept;
  void start_tail() noexcept;
  bool send_tail(bool& progressed) noexcept;  // false when the connection closed
  void finish_tail() noexcept;
  void hand_off() noexcept;
  void on_head() noexcept;
  void deliver(bool last) noexcept;
  void finish_upload(bool stopped) noexcept;
  void abort_upload(int status) noexcept;
  void resume_upload() noexcept;
  void fail(int status) noexcept;
  void fail_handler() noexcept;
  void discard_input() noexcept;
  void take_buffers();
  void release_buffers() noexcept;
  // Takes a pooled string before the first append. Inline: on every response's path, and
  // nearly always a test that finds one already there.
  void prepare_output() noexcept {
    if (out_.empty() && out_.capacity() < 64) take_pooled_output();
  }
  void take_pooled_output() noexcept;
  // After answer(): counts it, and notes where its response ends for the duration histogram.
  void account(const Answer& a) noexcept {
    if (!count_answer(shared_, a, codec_->head()) || !shared_.time_requests) return;
    timer_.answered(a.streams || a.tail ? ResponseTimer::kOpen : out_.size());
    if (shared_.access_log) [[unlikely]]
      access_answered(a);
  }
  std::string_view method_read() const noexcept;  // of the request in progress, or empty
  // Before answer(): counts the request against max_requests_per_connection (the last one's
  // response says "Connection: close") and, when requests get ids, gives it its id.
  void count_request() noexcept {
    uint64_t limit = shared_.limits.max_requests_per_connection;
    shared_.last_request = limit != 0 && ++answered_ >= limit;
    if (shared_.ids) [[unlikely]]
      name_request();
  }
  void name_request() noexcept;
  std::string_view field_read(std::string_view name) const noexcept;  // of the request so far
  // The access log's line (access_log.hpp) for a handler's response, for an error the
  // connection answers itself, and for a streamed response that has ended or been cut short.
  void access_answered(const Answer& a) noexcept;
  void access_failed(int status, uint64_t bytes, std::string_view id) noexcept;
  std::string_view error_request_id() noexcept;
  void access_stream_ended() noexcept;
  void access_body_answered(const Answer& a, std::unique_ptr<PendingAccess> p) noexcept;
  void access_pending(const PendingAccess& p, int status, uint64_t bytes,
                      uint64_t duration_us) noexcept;
  static std::unique_ptr<PendingAccess> pending_access_of(const Request& q) noexcept;
  std::string_view remote() const noexcept { return remote_ ? *remote_ : std::string_view(); }
  uint64_t microseconds_since_read() const noexcept {
    return (monotonic_ns() - timer_.last_read_ns()) / 1000;
  }
  // The head is complete and its body is still arriving: the body's deadline, not the head's.
  void await_body() noexcept { enter(State::reading_body, shared_.limits.body_timeout_ms); }

  // The conditions serve() and parse() decide by.
  bool parsing_stopped() const noexcept { return phase_ >= Phase::finishing; }
  // New requests are parsed and read: none is final yet, and no response is streaming (the
  // requests behind a stream wait in the kernel, where TCP flow control bounds them).
  // Nor while a body reader has paused the body: its bytes wait in the kernel too.
  bool takes_requests() const noexcept {
    return !parsing_stopped() && !stream_ && !tail_ && !upload_paused();
  }
  bool upload_paused() const noexcept;
  bool has_unparsed() const noexcept { return in_ && in_->parsed < in_->length; }
  bool unread_input() const noexcept { return peer_ == Peer::readable || peer_ == Peer::shut; }
  bool backpressured() const noexcept {
    return out_.size() - out_sent_ >= shared_.limits.output_high_water;
  }

  ConnectionShared& shared_;
  UniqueFd fd_;
  int slot_;
  uint64_t deadline_ms_ = 0;
  State state_ = State::reading;
  Phase phase_ = Phase::fresh;
  Peer peer_ = Peer::drained;
  bool pumping_ = false;  // inside the producer: a wake-up only asks for another round
  bool rewake_ = false;
  std::unique_ptr<RequestCodec> codec_;  // held with in_, from the shared free list
  std::unique_ptr<ReadBuffer> in_;
  std::string out_;
  size_t out_sent_ = 0;
  std::shared_ptr<Stream> stream_;       // set while a streamed response is being produced
  std::unique_ptr<TakeOver> take_;       // set once a response hands the connection over
  std::unique_ptr<Upload> upload_;       // set while a BodyReader reads the request body
  std::unique_ptr<OutputTail> tail_;     // a body sent from where it lies, after out_
  ResponseTimer timer_;                  // with shared_.time_requests only
  uint64_t answered_ = 0;                // requests answered, for max_requests_per_connection
  std::unique_ptr<std::string> remote_;  // the peer's name, with the access log only
  std::unique_ptr<PendingAccess> pending_access_;  // a streamed response's, until it ends
};

}  // namespace hs
