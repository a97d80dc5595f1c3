// RequestCodec: the HTTP/1.1 request grammar of one connection, with no socket.
//
// Fed the bytes of a ReadBuffer, it answers one of: a request is ready (its head and its
// whole body), more bytes are needed, a 100 Continue is due, or an error status and why.
// It owns llhttp, the one-pass parser of common heads (common_head.hpp), the chunked decoder
// (chunked_decoder.hpp), the tab filter llhttp needs (ows_tabs.hpp), the checks RFC 9112 asks
// of a server on top of llhttp, and the request spans in the buffer. The connection owns the
// buffer and everything about sockets, deadlines and responses. As h2o's http1 acts on what
// picohttpparser says, the connection acts on what this says; so the grammar can be tested,
// fuzzed and benchmarked without a socket.
//
// Contract:
// - decode() parses from b.parsed and stops at the first result. After `request` the buffer's
//   spans (method, target, headers, body) and head() describe it until the next decode() or
//   compact(); the caller answers it, then calls decode() again for the next (pipelined) one.
// - The buffer may be compacted or grown between two calls, never during one: the codec keeps
//   offsets, not pointers, and compact() shifts them.
// - After `error` the codec is done: status() and reason() say why; feed it nothing more.
// - With CodecRules::head_first, a request with a body stops at its head (`head`): the caller
//   calls read_body() (buffered: the body comes whole with `request`, as without the rule) or
//   stream_body() (each decode() then gives the next piece of it as `body_piece`, the last
//   as `body_end`; a piece is dropped by the next compact()).
// - No allocation once warm: spans go into the buffer's own vector, which the pool keeps.
//
// Threads: one connection's, i.e. the reactor's.
#pragma once

#include <cstddef>
#include <cstdint>

#include <httpserver/options.hpp>

#include "buffer_pool.hpp"
#include "chunked_decoder.hpp"
#include "common_head.hpp"
#include "ows_tabs.hpp"

// llhttp's parser state, kept opaque here: only request_codec.cpp includes llhttp.h.
struct llhttp__internal_s;

namespace hs {

// What the codecs of one server share: the limits requests are held to (a copy of the
// server's, see Limits in <httpserver/options.hpp> for their meaning) and the Host memo.
struct CodecRules {
  size_t max_header_bytes = 8 * 1024;
  size_t max_target_bytes = 8 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_chunk_line_bytes = 1024;
  size_t max_chunk_extension_bytes = 16 * 1024;
  // Common heads are parsed in one pass; off, llhttp parses every head. Off only to compare
  // the two (tests and the fuzzer do): both must give the same requests and errors.
  bool common_heads = true;
  // A request with a body stops at its head (Result::head) for the caller to choose how its
  // body is read. Set when the server has a ServerOptions::stream_body.
  bool head_first = false;
  HostMemo host_memo;  // the common-head parser's last Host
};

class RequestCodec {
 public:
  enum class Result : uint8_t {
    more,          // every byte given is taken: a request (if one has begun) needs more
    request,       // a request is complete: head() and the buffer's spans describe it
    continue_100,  // a head asked for 100-continue and none of its body is here yet: send
                   // "100 Continue", then decode on
    error,         // status() and reason(); decode nothing more
    head,          // head_first: the head of a request with a body, whose spans describe it;
                   // call read_body() or stream_body()
    body_piece,    // a streamed body: the buffer's body span is its next piece
    body_end,      // its last piece (perhaps empty): the request is complete
  };

  // What the connection needs of a request's head beyond its spans.
  struct Head {
    uint8_t major = 1, minor = 1;
    bool keep_alive = false;  // as llhttp_should_keep_alive() says
    bool connect = false;     // CONNECT: a tunnel is asked for, which we never open
    // head_first: it asked for 100-continue and none of its body is here yet; the caller
    // sends "100 Continue" if it reads the body.
    bool expect_continue = false;
    // For the traffic figures: the seven methods counted apart, or kOtherMethod.
    TrafficStats::Method method = TrafficStats::kOtherMethod;
  };

  static constexpr size_t kParserBytes = 128;  // room for llhttp's parser state

  explicit RequestCodec(CodecRules& rules) noexcept;
  RequestCodec(const RequestCodec&) = delete;
  RequestCodec& operator=(const RequestCodec&) = delete;

  // Parses b[b.parsed, b.length), advancing b.parsed. Inline: the common head's path is
  // every request's, and a call costs as much as the checks that pick it.
  Result decode(ReadBuffer& b) noexcept {
    began_ = false;
    if (phase_ != Phase::idle || !rules_.common_heads || b.parsed == b.length)
      return decode_slow(b, false);
    b.line_start = static_cast<uint32_t>(b.parsed);
    if (!parse_common(b)) return decode_slow(b, true);
    return phase_ == Phase::idle ? Result::request : common_body(b);
  }
  // The client will send nothing more: `error` (400) if a request line it began can no
  // longer be judged, else `more`.
  Result finish() noexcept;

  // After `head`: the body is read whole, within max_body_bytes, and comes with `request`.
  // Returns 0, or 413 when its Content-Length is over the limit (the codec has failed).
  int read_body() noexcept;
  // After `head`: the body comes in pieces, held to no size limit (the reader decides).
  void stream_body() noexcept;

  // Between requests, with nothing half parsed, and the last request kept the connection:
  // llhttp refuses any byte after a message that closes it, so that codec needs a reset()
  // before another connection can use it.
  bool at_rest() const noexcept {
    return phase_ == Phase::idle && refused_error_ == 0 && !streamed_ && head_.keep_alive;
  }
  // Back to the state of a new codec, wherever it stood.
  void reset() noexcept;

  // Drops the bytes no span of the request in progress needs any more from the front of `b`,
  // moving the unparsed bytes down after the kept ones.
  void compact(ReadBuffer& b) const noexcept;

  const Head& head() const noexcept { return head_; }
  int status() const noexcept { return status_; }
  const char* reason() const noexcept { return reason_; }

  // A request began during the last decode() (the connection's header deadline starts).
  bool began() const noexcept { return began_; }
  // A request has begun and is not complete (its head or its body is still to come).
  bool in_request() const noexcept { return phase_ != Phase::idle && phase_ != Phase::failed; }
  // Its head is still to come: a request line, fields, or a refused line being judged.
  bool in_head() const noexcept { return phase_ == Phase::head; }
  // Its head is complete and its body is still to come.
  bool in_body() const noexcept {
    return phase_ == Phase::body || phase_ == Phase::sized || phase_ == Phase::chunked;
  }
  // The bytes of its Content-Length body still to come (0 for a chunked body, whose size is
  // not announced): what the read buffer needs room for. Within max_body_bytes for a body
  // read whole (a larger one is refused at its head).
  uint64_t body_bytes_left() const noexcept;
  // The head as sent, whitespace included, may exceed what the limits count by a request
  // line's framing and the whitespace around field values; not by more.
  size_t max_head_wire_bytes() const noexcept {
    return rules_.max_target_bytes + rules_.max_header_bytes + 1024;
  }

  // llhttp callbacks (called through static trampolines in request_codec.cpp).
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
  enum class Phase : uint8_t {
    idle,     // between requests: the next byte (after empty lines) begins one
    head,     // a request line and fields are arriving (or a refused line is judged)
    body,     // a Content-Length body, read by llhttp
    sized,    // a Content-Length body after a common head (llhttp saw neither): counted here
    chunked,  // a chunked body, decoded by chunked_
    failed,   // an error was returned
  };
  enum class Pause : uint8_t { none, head, message };

  // `common_declined`: parse_common() has just declined the head at b.parsed.
  Result decode_slow(ReadBuffer& b, bool common_declined) noexcept;
  bool parse_common(ReadBuffer& b) noexcept;
  [[gnu::noinline]] bool start_sized(ReadBuffer& b, uint64_t length) noexcept;
  Result common_body(ReadBuffer& b) noexcept;
  Result decode_sized(ReadBuffer& b) noexcept;
  void begin_message() noexcept;
  int check_head(ReadBuffer& b) noexcept;
  Result decode_chunked(ReadBuffer& b) noexcept;
  bool refused_line(ReadBuffer& b) noexcept;
  void start_body(size_t max_body) noexcept;
  Result ready() noexcept {
    phase_ = Phase::idle;
    if (streamed_) {
      streamed_ = false;
      return Result::body_end;
    }
    return Result::request;
  }
  Result fail(int status, const char* reason) noexcept;
  int reject(int status, const char* reason) noexcept;
  uint32_t offset_of(const char* at) const noexcept {
    return static_cast<uint32_t>(at - in_->data.get());
  }
  llhttp__internal_s* parser() noexcept {
    return reinterpret_cast<llhttp__internal_s*>(parser_storage_);
  }

  alignas(8) unsigned char parser_storage_[kParserBytes];  // an llhttp_t; size checked in the .cpp
  CodecRules& rules_;
  ReadBuffer* in_ = nullptr;  // the buffer of the decode() in progress, for the callbacks
  ChunkedDecoder chunked_;
  OwsTabs tabs_;  // over the bytes of a head before llhttp reads them
  Head head_;
  Phase phase_ = Phase::idle;
  Pause pause_ = Pause::none;
  uint64_t sized_left_ = 0;  // Phase::sized: the body's bytes still to come
  bool began_ = false;
  bool in_field_ = false, in_value_ = false;
  // llhttp completes a bodiless message only when executed once more after the head pause,
  // even with no bytes left.
  bool execute_again_ = false;
  bool expect_continue_ = false;  // check_head found a 100-continue to send
  bool streamed_ = false;         // the body in progress is given in pieces
  size_t head_bytes_ = 0;         // header field bytes of the request being parsed
  int error_status_ = 0;          // set by a callback that stops llhttp
  // llhttp refused a request line whose status (400, 501, 505) depends on bytes that have not
  // come yet: the llhttp error, until they do.
  int refused_error_ = 0;
  int status_ = 0;
  const char* reason_ = "";
};

}  // namespace hs
