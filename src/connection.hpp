// Connection: one HTTP/1.1 client, from accept to close.
//
// Reads with one read() per readiness until a short read, parses with llhttp, runs the handler
// for each complete request in order, and writes every response of a batch with one send().
// Keeps the connection alive as HTTP/1.1 says, answers malformed or oversized requests with
// the right 4xx and closes, and enforces per-state deadlines.
//
// Lifetime: created by the Server for an accepted descriptor, registered with the reactor
// edge-triggered for reading and writing once (no epoll_ctl afterwards). A connection that
// closes itself calls ConnectionShared::on_closed from inside its own callback; the owner must
// free it only after that callback has returned.
//
// States and their deadlines (all connections in one state share a timeout, so each state's
// list is ordered by deadline):
//   reading    a request has begun, or none has been answered yet: header_timeout, from the
//              first byte (408 on expiry if any byte came, else a silent close); re-armed by
//              progress while a body arrives
//   idle       between requests on a kept-alive connection: idle_timeout, silent close
//   writing    output the client is not reading fast enough: write_timeout, re-armed by progress
//   streaming  a streamed response waits for its producer (Response::stream): no deadline,
//              the producer decides; once output is pending the connection is writing
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

#include "buffer_pool.hpp"
#include "chunked_decoder.hpp"
#include "common_head.hpp"
#include "list.hpp"
#include "ows_tabs.hpp"
#include "serialize.hpp"
#include "unique_fd.hpp"

// llhttp's parser state, kept opaque here: only connection.cpp includes llhttp.h, so the
// installed headers do not need it.
struct llhttp__internal_s;

namespace hs {

class Connection;

// What all connections of one reactor share. Owned by the Server.
struct ConnectionShared {
  ConnectionShared(Reactor& reactor, const Limits& limits, Handler handler, Logger* error_log,
                   std::string server_name);

  Reactor& reactor;
  Limits limits;
  Handler handler;
  Logger* error_log;  // handler exceptions are reported here; may be null
  std::string server_name;

  List reading, idle, writing, lingering;  // by state, each ordered by deadline
  BufferPool pool;
  DateCache date;
  Request request;              // filled for each request in turn
  Response response;            // reused: its strings keep their capacity
  HostMemo host_memo;           // the common-head parser's last Host
  std::vector<Header> headers;  // the views handed to the handler; grows with the largest head
  ConnectionStats stats;
  bool draining = false;  // every response says "Connection: close"
  // Common heads are parsed in one pass (common_head.hpp); off, llhttp parses every head.
  // Off only to compare the two (the fuzzer does).
  bool common_heads = true;
  std::function<void(Connection&)> on_closed;
};

// A Connection is the ListLink of its state's deadline list (as an h2o socket embeds its
// links), so the owner gets from a list entry back to the connection without a lookup.
class Connection final : public IoHandler, private ListLink {
 public:
  enum class State { reading, idle, writing, lingering, streaming, closed };
  static constexpr size_t kParserBytes = 128;  // room for llhttp's parser state

  // Registers `fd` with the reactor. Check closed() afterwards: registration can fail.
  Connection(ConnectionShared& shared, UniqueFd fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Detached: no descriptor and no reactor registration. For benchmarks and the fuzzer, which
  // drive the same parsing, dispatch and serialization as a socket would, without syscalls:
  // receive() takes bytes as if read, output() collects every response (never sent).
  explicit Connection(ConnectionShared& shared);
  // Hands in bytes as one read would; parses and answers every complete request in them.
  void receive(std::string_view bytes) noexcept;
  // The client closed its side (EOF), as a read returning 0 would say.
  void receive_eof() noexcept;
  // Responses not yet taken; clear it (keeping capacity) between calls.
  std::string& output() noexcept { return out_; }

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

  // llhttp callbacks (called through static trampolines in connection.cpp).
  int on_message_begin() noexcept;
  int on_method(const char* at, size_t length) noexcept;
  int on_url(const char* at, size_t length) noexcept;
  int on_header_field(const char* at, size_t length) noexcept;
  int on_header_field_complete() noexcept;
  int on_header_value(const char* at, size_t length) noexcept;
  int on_header_value_complete() noexcept;
  int on_headers_complete() noexcept;
  int on_body(const char* at, size_t length) noexcept;
  int on_message_complete() noexcept;

 private:
  enum class Pause { none, head, message };
  class Stream;  // the BodyWriter of a streamed response
  friend class Stream;

  void serve() noexcept;
  void pump() noexcept;         // calls the stream's producer while the client keeps up
  void wake_stream() noexcept;  // BodyWriter::waker()
  void finish_stream() noexcept;
  void parse() noexcept;
  bool read_some() noexcept;  // false when there is nothing more to read now
  bool make_room() noexcept;
  bool write_out() noexcept;  // false when the connection closed
  void settle() noexcept;
  void enter(State state, uint64_t timeout_ms) noexcept;
  bool parse_common() noexcept;
  void begin_message() noexcept;
  void check_head() noexcept;
  void decode_chunked() noexcept;
  bool refused_line() noexcept;
  size_t max_head_wire_bytes() const noexcept;
  void dispatch() noexcept;
  void fail(int status) noexcept;
  void respond(int status, std::string_view body, bool close) noexcept;
  void discard_input() noexcept;
  void release_buffers() noexcept;
  // Takes a pooled string before the first append. Inline: on every response's path, and
  // nearly always a test that finds one already there.
  void prepare_output() noexcept {
    if (out_.empty() && out_.capacity() < 64) take_pooled_output();
  }
  void take_pooled_output() noexcept;
  bool backpressured() const noexcept {
    return !detached_ && out_.size() - out_sent_ >= shared_.limits.output_high_water;
  }
  uint32_t offset_of(const char* at) const noexcept {
    return static_cast<uint32_t>(at - in_->data.get());
  }
  int reject(int status, const char* reason) noexcept;

  ConnectionShared& shared_;
  UniqueFd fd_;
  int slot_;
  uint64_t deadline_ms_ = 0;
  State state_ = State::reading;
  llhttp__internal_s* parser() noexcept {
    return reinterpret_cast<llhttp__internal_s*>(parser_storage_);
  }
  alignas(8) unsigned char parser_storage_[kParserBytes];  // an llhttp_t; size checked in the .cpp
  std::unique_ptr<ReadBuffer> in_;
  std::string out_;
  size_t out_sent_ = 0;
  std::shared_ptr<Stream> stream_;  // set while a streamed response is being produced

  // What dispatch() needs of the head, taken when it is checked (the parser is reset after a
  // chunked body, which it does not read).
  struct Head {
    uint8_t method = 0;  // llhttp_method
    uint8_t major = 0, minor = 0;
    bool keep_alive = false;
  };
  Head head_;
  ChunkedDecoder chunked_;
  OwsTabs tabs_;           // over the bytes of a head before llhttp reads them
  size_t head_bytes_ = 0;  // header field bytes of the request being parsed
  int error_status_ = 0;   // set by a callback that stops the parser
  // llhttp refused a request line whose status (400, 501, 505) depends on bytes that have not
  // come yet: the llhttp error, until they do.
  int refused_error_ = 0;
  Pause pause_ = Pause::none;
  bool in_chunked_body_ = false;  // the body is ours to decode, not llhttp's
  bool readable_ = false;         // the kernel may hold unread bytes
  bool eof_ = false;              // the client will send nothing more
  bool hangup_ = false;           // epoll reported the peer's shutdown: read on to the EOF
  bool in_message_ = false;       // a request has begun and is not yet answered
  bool head_done_ = false;        // its head is complete
  bool in_field_ = false, in_value_ = false;
  bool answered_any_ = false;  // at least one response written: "idle" means kept alive
  bool stop_parsing_ = false;  // after an error or a final response: parse nothing more
  bool close_after_write_ = false;
  bool linger_ = false;    // unread input may remain when we close: linger first
  bool detached_ = false;  // no socket: see receive()
  bool pumping_ = false;   // inside the producer: a wake-up only asks for another round
  bool rewake_ = false;
};

}  // namespace hs
