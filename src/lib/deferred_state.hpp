// The state behind an hs::Deferred (http.hpp): the response it fills, and the request loop
// that waits for it. Shared by the handle and the loop, so that either may go first: a send
// after the connection is gone finds no owner and does nothing; a loop whose handle was
// dropped unsent has been answered 500 by the handle's destructor.
#pragma once

#include <httpserver/http.hpp>

namespace hs {

// What waits for a deferred response: the Exchange that answered the request by deferring.
class DeferredOwner {
 public:
  // send() was called, on the reactor's thread: serialize the response now or when next free.
  virtual void deferred_ready() noexcept = 0;

 protected:
  ~DeferredOwner() = default;
};

struct DeferredState {
  Response response;
  DeferredOwner* owner = nullptr;  // set when the loop takes it over, after the handler returned
  bool sent = false;               // send() called: the response is complete
  bool gone = false;               // nobody waits any more: the connection went, or timed out
};

}  // namespace hs
