#include "responder.hpp"

#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include <httpserver/http.hpp>

#include "message_access.hpp"

namespace hs {

namespace {

// A closing text/plain response of the connection's own; `request_id`, when not empty, is
// echoed as X-Request-Id.
void answer_closing(ExchangeShared& shared, int status, std::string_view body, std::string& out,
                    std::string_view request_id) noexcept {
  Response& response = shared.scratch.response;
  response.clear();
  response.status = status;
  try {
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    if (!request_id.empty()) response.set_header("X-Request-Id", request_id);
    response.body.assign(body);
    serialize(response, {shared.worker.date.now(), shared.settings.server_name, "GET", true, false},
              out);
  } catch (const std::bad_alloc&) {
  }
}

// The Request a handler sees, from the spans of `b`. False when the field views could not grow.
[[gnu::always_inline]] inline bool present_request(ExchangeShared& shared, const ReadBuffer& b,
                                                   const RequestCodec::Head& head) noexcept {
  const char* data = b.data.get();
  size_t count = b.headers.size();
  if (count > shared.scratch.headers.size()) {
    // The largest head so far: the views' array grows once, then serves every later one.
    try {
      shared.scratch.headers.resize(count);
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  for (size_t i = 0; i < count; ++i) {
    const HeaderSpan& h = b.headers[i];
    shared.scratch.headers[i] = {std::string_view(data + h.name.offset, h.name.length),
                                 std::string_view(data + h.value.offset, h.value.length)};
  }
  RequestAccess::set(shared.scratch.request, {data + b.method.offset, b.method.length},
                     {data + b.target.offset, b.target.length}, head.major, head.minor,
                     {shared.scratch.headers.data(), count}, {data + b.body.offset, b.body.length},
                     head.keep_alive);
  return true;
}

// Calls `fill` (the handler, or a body reader's end) on a cleared shared.scratch.response. True
// when it threw; reported to the error log.
template <typename Fill>
[[gnu::always_inline]] inline bool run_handler(ExchangeShared& shared, Fill&& fill) noexcept {
  try {
    fill(shared.scratch.response);
    return false;
  } catch (const std::exception& e) {
    if (shared.settings.error_log) shared.settings.error_log->error("handler failed: ", e.what());
  } catch (...) {
    if (shared.settings.error_log)
      shared.settings.error_log->error("handler failed: ", "unknown exception");
  }
  return true;
}

// The framing of `response` and whether the connection closes after it, serialized onto `out`:
// the part of an answer after the handler. A deferred response is serialized when it is sent.
[[gnu::always_inline]] inline Answer respond(ExchangeShared& shared, Response& response,
                                             std::string_view method,
                                             const RequestCodec::Head& head, bool failed,
                                             bool body_unread, std::string_view body_id,
                                             std::string& out, bool count = true) noexcept {
  if (count) ++shared.worker.stats.requests;
  if (failed) {
    // The id the handler's response would have carried (a body reader's request is gone
    // from shared.scratch.request by then: its id comes as body_id).
    std::string_view id;
    if (shared.settings.echo_request_id)
      id = body_id.empty() ? shared.scratch.request.request_id() : body_id;
    answer_handler_error(shared, out, id);
    return {Answer::Outcome::handler_threw};
  }
  if (response.deferred()) [[unlikely]] {
    Answer a{Answer::Outcome::deferred};
    a.deferred = true;
    return a;
  }
  bool keep_alive = head.keep_alive;
  bool take_over = response.taking_over();
  // Handed over, the connection is the taker's to keep or close: never "Connection: close".
  // A body left unread ends the connection: what follows is not a request.
  bool close =
      !take_over && (!keep_alive || shared.worker.draining || shared.scratch.last_request ||
                     response.closes_connection() || body_unread);
  using Framing = ResponseContext::Framing;
  Framing framing = Framing::length;
  if (response.streaming() && !take_over) {
    framing = head.minor >= 1 ? Framing::chunked : Framing::until_close;
    if (framing == Framing::until_close) close = true;
  }
  ResponseContext context{shared.worker.date.now(shared.worker.reactor.now_ms()),
                          shared.settings.server_name,
                          method,
                          close,
                          keep_alive && head.minor == 0 && !close && !take_over,
                          take_over && response.status == 101,
                          framing};
  Answer a;
  try {
    serialize(response, context, out);
  } catch (const std::bad_alloc&) {
    return {Answer::Outcome::no_memory};
  }
  if (take_over) return {Answer::Outcome::take_over};
  if (response.streaming() && !response_has_no_body(response.status, method)) {
    a.streams = true;
    a.chunked = framing == Framing::chunked;
    if (framing == Framing::until_close) close = false;  // the end of the stream closes
  } else if (response.body_elsewhere() && !response_has_no_body(response.status, method))
      [[unlikely]] {
    a.tail = true;
  }
  a.outcome = body_unread ? Answer::Outcome::body_unread
              : close     ? Answer::Outcome::close
                          : Answer::Outcome::keep_alive;
  return a;
}

}  // namespace

Answer answer(ExchangeShared& shared, const ReadBuffer& b, const RequestCodec::Head& head,
              std::string& out) noexcept {
  if (!present_request(shared, b, head)) return {Answer::Outcome::head_too_big};
  Request& request = shared.scratch.request;
  Response& response = shared.scratch.response;
  response.clear();
  if (head.connect) {
    // A 2xx to CONNECT would promise a tunnel (RFC 9110 section 9.3.6); we are no proxy.
    response.status = 501;
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body.assign("501 Not Implemented\n");
    return respond(shared, response, request.method(), head, false, false, {}, out);
  }
  bool failed = run_handler(shared, [&](Response& r) { shared.settings.handler(request, r); });
  return respond(shared, response, request.method(), head, failed, false, {}, out);
}

bool present_head(ExchangeShared& shared, const ReadBuffer& b,
                  const RequestCodec::Head& head) noexcept {
  if (!present_request(shared, b, head)) return false;
  RequestAccess::set_body_pending(shared.scratch.request, true);
  return true;
}

Answer answer_head(ExchangeShared& shared, const RequestCodec::Head& head,
                   std::string& out) noexcept {
  Request& request = shared.scratch.request;
  Response& response = shared.scratch.response;
  response.clear();
  bool failed = run_handler(shared, [&](Response& r) { shared.settings.handler(request, r); });
  if (!failed && response.reads_body()) return {Answer::Outcome::reads_body};
  return respond(shared, response, request.method(), head, failed, true, {}, out);
}

Answer answer_body(ExchangeShared& shared, BodyReader& reader, std::string_view method,
                   const RequestCodec::Head& head, bool stopped, std::string_view echo_id,
                   std::string& out) noexcept {
  shared.scratch.response.clear();
  bool failed = run_handler(shared, [&](Response& r) {
    if (!echo_id.empty()) r.set_header("X-Request-Id", echo_id);  // as the handler's response
    reader.end(r);
    // Only a handler may hand the connection over: the reader has it half read.
    if (r.taking_over()) ResponseAccess::release_take_over(r);
  });
  return respond(shared, shared.scratch.response, method, head, failed, stopped, echo_id, out);
}

Answer answer_deferred(ExchangeShared& shared, Response& response, std::string_view method,
                       const RequestCodec::Head& head, bool body_unread, std::string_view echo_id,
                       std::string& out) noexcept {
  if (!echo_id.empty() && response.header("X-Request-Id").empty()) {
    try {
      response.set_header("X-Request-Id", echo_id);
    } catch (const std::bad_alloc&) {
    }
  }
  if (response.taking_over()) ResponseAccess::release_take_over(response);  // the handler's only
  return respond(shared, response, method, head, false, body_unread, echo_id, out, false);
}

void answer_handler_error(ExchangeShared& shared, std::string& out,
                          std::string_view request_id) noexcept {
  ++shared.worker.stats.handler_errors;
  answer_closing(shared, 500, "500 Internal Server Error\n", out, request_id);
}

void answer_error(ExchangeShared& shared, int status, std::string& out,
                  std::string_view request_id) noexcept {
  ++shared.worker.stats.client_errors;
  char body[64];
  std::string_view text = status_text(status);
  size_t n = format_decimal(static_cast<uint64_t>(status), body);
  body[n++] = ' ';
  std::memcpy(body + n, text.data(), text.size());
  n += text.size();
  body[n++] = '\n';
  answer_closing(shared, status, {body, n}, out, request_id);
}

}  // namespace hs
