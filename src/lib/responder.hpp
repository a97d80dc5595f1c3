// Responder: a decoded request in, the bytes of its response out, with no socket.
//
// Builds the Request a handler sees from the codec's spans, calls the handler (a throw becomes
// 500), answers CONNECT itself (501: we open no tunnel), decides the framing and whether the
// connection closes after the response, and serializes it onto `out`. The connection sends
// what it writes and acts on what it says; the fuzzer and the hot-path benchmark call it
// directly, so they run the very code a socket's requests run.
//
// Contract: the views of the Request point into `b` and live until answer() returns. A
// streamed response gets its head written here; its body is the response's producer, which
// the caller takes (ResponseAccess), as it takes a body that lies elsewhere and a deferred
// response's state.
//
// Threads: the reactor's thread only (it uses the worker's scratch Request and Response).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <httpserver/http.hpp>

#include "buffer_pool.hpp"
#include "exchange_shared.hpp"
#include "request_codec.hpp"
#include "traffic.hpp"

namespace hs {

struct Answer {
  enum class Outcome : uint8_t {
    keep_alive,     // answered: the next request may follow
    close,          // answered with "Connection: close": parse nothing after it
    handler_threw,  // answered 500, closing
    no_memory,      // nothing answered: close
    head_too_big,   // the field views could not grow: answer 431 (answer_error) and close
    take_over,      // answered: once it is sent, the connection is shared.response's taker's
    reads_body,     // nothing answered yet: shared.response's BodyReader reads the body
    body_unread,    // answered with "Connection: close" before the body was read: discard it
    deferred,       // nothing answered yet: the response's Deferred answers later
  };
  Outcome outcome = Outcome::keep_alive;
  // The body is to come from shared.response's producer: in chunks, or (HTTP/1.0) until the
  // connection closes, which `close` then leaves to the end of the stream.
  bool streams = false;
  bool chunked = false;
  // The body lies elsewhere (Response::send_file, send_shared): the caller sends it after the
  // head, taking it from shared.response (ResponseAccess).
  bool tail = false;
  // The handler deferred its response (Response::defer): the caller takes its state
  // (ResponseAccess) and answers once it is sent.
  bool deferred = false;
};

// Answers the request the codec has just found in `b` (RequestCodec::Result::request).
Answer answer(ExchangeShared& shared, const ReadBuffer& b, const RequestCodec::Head& head,
              std::string& out) noexcept;

// A request whose handler runs before its body (RequestCodec::Result::head): present_head()
// fills shared.request from the head, for ServerOptions::stream_body to judge (false: the
// field views could not grow, answer 431); answer_head() then runs the handler. It answers
// at once (body_unread), or leaves the answer to the BodyReader it set (reads_body), whose
// end() answer_body() runs once the body is complete, or when it said stop (`stopped`: the
// rest is unread). `method` is the request's, kept by the caller: the head is gone by then;
// `echo_id`, when not empty, is set as X-Request-Id before end() fills the response.
bool present_head(ExchangeShared& shared, const ReadBuffer& b,
                  const RequestCodec::Head& head) noexcept;
Answer answer_head(ExchangeShared& shared, const RequestCodec::Head& head,
                   std::string& out) noexcept;
Answer answer_body(ExchangeShared& shared, BodyReader& reader, std::string_view method,
                   const RequestCodec::Head& head, bool stopped, std::string_view echo_id,
                   std::string& out) noexcept;

// A deferred response (Response::defer), sent: serialized as answer() serializes a handler's.
// `method` and `head` are its request's, kept by the caller.
Answer answer_deferred(ExchangeShared& shared, Response& response, std::string_view method,
                       const RequestCodec::Head& head, bool body_unread, std::string_view echo_id,
                       std::string& out) noexcept;

// Counts what an answer produced in the worker's traffic (method, status class); false when it
// produced no response (yet). The exchange calls it after each answer(), and so does the
// hot-path benchmark. The codec labelled the method as it parsed it: no second look.
inline bool count_answer(ExchangeShared& shared, const Answer& a,
                         const RequestCodec::Head& head) noexcept {
  if (a.outcome == Answer::Outcome::no_memory || a.outcome == Answer::Outcome::head_too_big)
    return false;
  if (a.outcome == Answer::Outcome::deferred) return true;  // counted when it is sent
  count_response(shared.worker.stats.traffic, head.method, shared.scratch.response.status);
  return true;
}

// An error of the connection's own (a codec status, 408, 413, 431): "NNN Reason" as
// text/plain, with "Connection: close". Counted as a client error.
// `request_id`, when not empty, is echoed as X-Request-Id (ServerOptions::echo_request_id).
void answer_error(ExchangeShared& shared, int status, std::string& out,
                  std::string_view request_id = {}) noexcept;

// A 500 for code of the host's that threw outside a handler call (stream_body, a BodyReader's
// data()), with "Connection: close". Counted as a handler error.
void answer_handler_error(ExchangeShared& shared, std::string& out,
                          std::string_view request_id = {}) noexcept;

}  // namespace hs
