// The Exchange's deferred responses (Response::defer): the request's connection waits, the
// requests behind it wait in the buffer, and the response is serialized when it is sent.
#include "exchange.hpp"
#include "message_access.hpp"

namespace hs {

// The handler (or a body reader's end) deferred its response: keep what serializing it will
// need of the request, whose views are gone by then. Already sent (inside the handler):
// answered now.
void Exchange::defer(std::string_view method, std::string_view request_id, bool body_unread,
                     std::unique_ptr<PendingAccess> access) noexcept {
  try {
    auto waiting = std::make_unique<Waiting>();
    waiting->state = ResponseAccess::take_deferred(shared_.scratch.response);
    waiting->method.assign(method);
    waiting->head = codec_->head();
    if (shared_.settings.echo_request_id) waiting->request_id.assign(request_id);
    waiting->body_unread = body_unread;
    waiting->state->owner = this;
    waiting_ = std::move(waiting);
  } catch (const std::bad_alloc&) {
    return fail_handler();
  }
  if (access) {
    access->start_ns = read_ns();
    pending_access_ = std::move(access);
  }
  if (waiting_->state->sent) send_deferred();
}

bool Exchange::deferred_sent() const noexcept { return waiting_ && waiting_->state->sent; }

void Exchange::deferred_ready() noexcept { host_.wake_soon(); }

// The deferred response, sent: serialized in its place, as a handler's would have been.
void Exchange::send_deferred() noexcept {
  std::unique_ptr<Waiting> waiting = std::move(waiting_);
  waiting->state->owner = nullptr;
  Response& response = waiting->state->response;
  prepare_output();
  uint64_t limit = shared_.settings.limits.max_requests_per_connection;
  shared_.scratch.last_request = limit != 0 && answered_ >= limit;
  size_t from = out_.size();
  Answer a = answer_deferred(shared_, response, waiting->method, waiting->head,
                             waiting->body_unread, waiting->request_id, out_);
  if (a.outcome != Answer::Outcome::no_memory) {
    count_response(shared_.worker.stats.traffic, waiting->method, response.status);
    if (shared_.settings.time_requests && !a.streams && !a.tail) timer_->ended(out_.size());
    if (pending_access_ && !a.streams) {
      uint64_t bytes = out_.size() - from + (a.tail ? response.content_length() : 0);
      std::unique_ptr<PendingAccess> p = std::move(pending_access_);
      access_pending(*p, response.status, bytes, (monotonic_ns() - p->start_ns) / 1000);
    } else if (pending_access_) {
      pending_access_->status = response.status;
      pending_access_->head_bytes = out_.size() - from;
    }
  }
  if (a.outcome != Answer::Outcome::keep_alive) return conclude(a, response);
  phase_ = Phase::kept_alive;
  if (a.streams) start_stream(a.chunked, response);
  if (a.tail) start_tail(response);
}

// Not sent in time: the server answers for it. 504, as a gateway answers for an upstream that
// did not: the handler waits on something (a device, a database, another thread) that did not
// answer. Not 503, which tells clients and load balancers that this server is unavailable (it
// is what /readyz says while draining). The connection stays open; a late send does nothing.
void Exchange::deferred_timed_out() noexcept {
  if (!waiting_) return;
  DeferredState& state = *waiting_->state;
  if (state.sent) return send_deferred();
  Response& r = state.response;
  r.clear();
  r.status = 504;
  try {
    r.set_header("Content-Type", "text/plain; charset=utf-8");
    r.body.assign("504 Gateway Timeout\n");
  } catch (const std::bad_alloc&) {
    r.body.clear();
  }
  state.gone = true;  // pending() is false: the handle's send does nothing now
  send_deferred();
}

}  // namespace hs
