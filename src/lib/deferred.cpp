#include <httpserver/http.hpp>

#include "deferred_state.hpp"

namespace hs {

namespace {

// A handle dropped before its response was sent: the client would otherwise wait for the
// response timeout. The handler's code failed to answer, as a throwing handler does: 500.
void answer_unsent(Deferred& deferred) noexcept {
  if (!deferred.pending()) return;
  Response& r = deferred.response();
  r.clear();
  r.status = 500;
  try {
    r.set_header("Content-Type", "text/plain; charset=utf-8");
    r.body.assign("500 Internal Server Error\n");
  } catch (...) {
    r.body.clear();
  }
  deferred.send();
}

}  // namespace

Deferred Response::defer() {
  deferred_ = std::make_shared<DeferredState>();
  return Deferred(deferred_);
}

Deferred& Deferred::operator=(Deferred&& other) noexcept {
  if (this != &other) {
    answer_unsent(*this);
    state_ = std::move(other.state_);
  }
  return *this;
}

Deferred::~Deferred() { answer_unsent(*this); }

Response& Deferred::response() noexcept { return state_->response; }

bool Deferred::pending() const noexcept { return state_ && !state_->sent && !state_->gone; }

void Deferred::send() noexcept {
  if (!pending()) return;
  state_->sent = true;
  // Not taken over yet (send() inside the handler): the loop finds it sent when it does.
  if (state_->owner) state_->owner->deferred_ready();
}

}  // namespace hs
