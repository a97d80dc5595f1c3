#include "responder.hpp"

#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include <httpserver/http.hpp>

#include "connection.hpp"

namespace hs {

namespace {

// A closing text/plain response of the connection's own.
void answer_closing(ConnectionShared& shared, int status, std::string_view body,
                    std::string& out) noexcept {
  Response& response = shared.response;
  response.clear();
  response.status = status;
  try {
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body.assign(body);
    serialize(response, {shared.date.now(), shared.server_name, "GET", true, false}, out);
  } catch (const std::bad_alloc&) {
  }
}

}  // namespace

Answer answer(ConnectionShared& shared, const ReadBuffer& b, const RequestCodec::Head& head,
              std::string& out) noexcept {
  const char* data = b.data.get();
  size_t count = b.headers.size();
  if (count > shared.headers.size()) {
    // The largest head so far: the views' array grows once, then serves every later one.
    try {
      shared.headers.resize(count);
    } catch (const std::bad_alloc&) {
      return {Answer::Outcome::head_too_big};
    }
  }
  for (size_t i = 0; i < count; ++i) {
    const HeaderSpan& h = b.headers[i];
    shared.headers[i] = {std::string_view(data + h.name.offset, h.name.length),
                         std::string_view(data + h.value.offset, h.value.length)};
  }
  std::string_view method(data + b.method.offset, b.method.length);
  std::string_view body(data + b.body.offset, b.body.length);
  bool keep_alive = head.keep_alive;
  Request& request = shared.request;
  request.set(method, {data + b.target.offset, b.target.length}, head.major, head.minor,
              {shared.headers.data(), count}, body, keep_alive);
  Response& response = shared.response;
  response.clear();

  bool failed = false;
  if (head.connect) {
    // A 2xx to CONNECT would promise a tunnel (RFC 9110 section 9.3.6); we are no proxy.
    response.status = 501;
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body.assign("501 Not Implemented\n");
  } else {
    try {
      shared.handler(request, response);
    } catch (const std::exception& e) {
      failed = true;
      if (shared.error_log) shared.error_log->error("handler failed: ", e.what());
    } catch (...) {
      failed = true;
      if (shared.error_log) shared.error_log->error("handler failed: ", "unknown exception");
    }
  }
  ++shared.stats.requests;
  if (failed) {
    ++shared.stats.handler_errors;
    answer_closing(shared, 500, "500 Internal Server Error\n", out);
    return {Answer::Outcome::handler_threw};
  }
  bool take_over = response.taking_over();
  // Handed over, the connection is the taker's to keep or close: never "Connection: close".
  bool close = !take_over && (!keep_alive || shared.draining || shared.last_request ||
                              response.closes_connection());
  using Framing = ResponseContext::Framing;
  Framing framing = Framing::length;
  if (response.streaming() && !take_over) {
    framing = head.minor >= 1 ? Framing::chunked : Framing::until_close;
    if (framing == Framing::until_close) close = true;
  }
  ResponseContext context{shared.date.now(shared.reactor.now_ms()),
                          shared.server_name,
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
  }
  a.outcome = close ? Answer::Outcome::close : Answer::Outcome::keep_alive;
  return a;
}

void answer_error(ConnectionShared& shared, int status, std::string& out) noexcept {
  ++shared.stats.client_errors;
  char body[64];
  std::string_view text = status_text(status);
  size_t n = format_decimal(static_cast<uint64_t>(status), body);
  body[n++] = ' ';
  std::memcpy(body + n, text.data(), text.size());
  n += text.size();
  body[n++] = '\n';
  answer_closing(shared, status, {body, n}, out);
}

}  // namespace hs
