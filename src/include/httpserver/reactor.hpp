// Reactor: a single-threaded epoll event loop with timers and a thread-safe post().
//
// It knows nothing of HTTP. It watches file descriptors and calls an IoHandler when one is
// ready, runs timers, and runs functions handed over from other threads.
//
// Threads: a Reactor belongs to the thread that calls run() / run_once(). Every member is for
// that thread only, except post(), which any thread may call at any time.
//
// Embedding: a host with its own poll loop polls fd() for readability (it is readable
// whenever ready descriptors, posted work or a wake-up are pending), sleeps at most
// next_timeout() ms, and calls run_once(0) to do the pending work without blocking.
//
// The reactor owns no descriptor it is given, installs no signal handler, starts no thread
// and writes nothing to stdout or stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <httpserver/export.hpp>

namespace hs {

// Readiness bits, equal to the EPOLL* values (checked in reactor.cpp).
enum IoEvent : uint32_t {
  kReadable = 0x001,
  kWritable = 0x004,
  kIoError = 0x008,
  kHangup = 0x010,
  kReadHangup = 0x2000,       // the peer shut down its writing side
  kEdgeTriggered = 1u << 31,  // report a change of readiness once, not while it lasts
};

// Receives the readiness of one descriptor.
//
// on_io(events) runs on the reactor's thread. It may remove or close its own descriptor, and
// any other registration; events still queued in the same batch for a descriptor that was
// removed are dropped (even if the number is reused by a new registration meanwhile). It must
// not destroy the object whose on_io is running: defer that until on_io has returned.
class HS_API IoHandler {
 public:
  virtual void on_io(uint32_t events) noexcept = 0;
  virtual ~IoHandler() = default;
};

class HS_API Reactor {
 public:
  using TimerId = uint64_t;
  using HookId = uint64_t;

  // Creates the epoll instance and the eventfd behind post(). Throws std::system_error.
  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // --- Descriptors ------------------------------------------------------------------------
  // Watches `fd` for `events` (IoEvent bits). `handler` must outlive the registration.
  // Returns 0, or an errno value (EEXIST, EPERM for regular files, ...).
  int add(int fd, uint32_t events, IoHandler* handler) noexcept;
  // Same with a callable, owned by the reactor until remove(), which destroys it at once: a
  // callable that removes its own descriptor must not touch its captures afterwards.
  // Allocates: not for hot paths.
  int add(int fd, uint32_t events, std::function<void(uint32_t)> callback);
  // Changes the events watched for `fd`; costs a syscall, so callers only call it on change.
  int modify(int fd, uint32_t events) noexcept;
  // Stops watching `fd`. Call it before closing the descriptor. Returns 0 or an errno value.
  int remove(int fd) noexcept;
  // Forgets `fd` without a syscall: for a descriptor about to be closed, which the kernel
  // drops from the epoll set by itself (this process holds no duplicate of it).
  void forget(int fd) noexcept;
  // Number of descriptors registered by callers (the reactor's own eventfd not included).
  size_t registered() const noexcept { return registered_; }

  // --- Timers -----------------------------------------------------------------------------
  // Calls `fn` once after `delay_ms`, then every `repeat_ms` if that is not 0, until
  // cancel_timer(). Timers due at the same time fire in the order they were added. A timer
  // may cancel itself or others from its callback. Allocates: not for hot paths.
  TimerId add_timer(uint64_t delay_ms, uint64_t repeat_ms, std::function<void()> fn);
  // Returns false when `id` is not pending (already fired once-only, or cancelled).
  bool cancel_timer(TimerId id) noexcept;
  size_t pending_timers() const noexcept { return timers_.size(); }

  // Runs `fn` at the end of every iteration, after its events and timers, before the loop or
  // the host may sleep, until remove_before_sleep(). Used to flush batched output such as log
  // lines. Hooks run in the order they were added; one added by a hook first runs in the
  // next iteration. Allocates: not for hot paths.
  HookId add_before_sleep(std::function<void()> fn);
  // Stops running the hook; it may be the one running now (it is destroyed after it returns).
  // Returns false when `id` is not registered.
  bool remove_before_sleep(HookId id) noexcept;
  // For a before-sleep hook that left work for later (log lines held back): the next sleep
  // ends by `deadline_ms` (now_ms() time), when the hooks run again and may ask again. Each
  // iteration forgets the deadline before its hooks run; next_timeout() includes it.
  void wake_by(uint64_t deadline_ms) noexcept {
    if (wake_by_ms_ == 0 || deadline_ms < wake_by_ms_) wake_by_ms_ = deadline_ms;
  }

  // --- Cross-thread -----------------------------------------------------------------------
  // Queues `fn` to run on the reactor's thread and wakes the loop. The one thread-safe
  // member. Functions run in the order they were posted.
  void post(std::function<void()> fn);

  // --- Running ----------------------------------------------------------------------------
  // Loops until stop(): run_once(-1) repeatedly.
  void run();
  // One iteration: wait up to `timeout_ms` (-1: until something happens; 0: do not block) for
  // events, dispatch them and posted functions, run due timers, then the before-sleep hooks.
  // Returns the number of callbacks it ran.
  int run_once(int timeout_ms);
  // Makes run() return after the current iteration. For other threads: post a call to it.
  void stop() noexcept { stopped_ = true; }
  bool stopped() const noexcept { return stopped_; }

  // The epoll descriptor, for a host loop to poll (see the header comment).
  int fd() const noexcept { return epoll_; }
  // Milliseconds the host may sleep: until the next timer, 0 when one is due or posted work
  // is waiting, -1 when nothing is scheduled. fd() is readable as well when work is posted.
  int next_timeout() const noexcept;

  // Monotonic milliseconds, read once per iteration (cheap to ask for on hot paths).
  uint64_t now_ms() const noexcept { return now_ms_; }
  // Reads the clock again and updates now_ms().
  uint64_t update_now() noexcept;

 private:
  struct Entry {
    IoHandler* handler = nullptr;
    std::unique_ptr<IoHandler> owned;  // set for callable registrations
    uint32_t generation = 0;
  };
  struct Timer {
    uint64_t repeat_ms;
    std::function<void()> fn;
  };
  using TimerKey = std::pair<uint64_t, TimerId>;  // (deadline, id): ordered by deadline

  HS_LOCAL void drain_posted() noexcept;
  HS_LOCAL int run_due_timers() noexcept;

  int epoll_ = -1;
  int wakeup_ = -1;           // eventfd written by post()
  std::vector<Entry> table_;  // indexed by fd, as Redis's ae.c does
  uint32_t next_generation_ = 1;
  size_t registered_ = 0;

  std::map<TimerKey, Timer> timers_;
  std::map<TimerId, uint64_t> timer_deadlines_;
  TimerId next_timer_id_ = 1;

  struct Hook {
    HookId id;  // 0: removed while the hooks were running; erased after them
    std::function<void()> fn;
  };
  HS_LOCAL void run_before_sleep() noexcept;

  std::vector<Hook> before_sleep_;
  std::vector<Hook> added_while_running_;  // a vector that grows must not move a running hook
  HookId next_hook_id_ = 1;
  bool running_hooks_ = false;
  uint64_t wake_by_ms_ = 0;  // 0: no hook asked to be run again by a deadline

  mutable std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;   // guarded by posted_mutex_
  std::vector<std::function<void()>> running_;  // loop thread only: swapped with posted_
  bool wakeup_pending_ = false;                 // guarded by posted_mutex_

  uint64_t now_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace hs
