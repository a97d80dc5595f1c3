#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <httpserver/reactor.hpp>

#include "unique_fd.hpp"

namespace hs {

static_assert(uint32_t{kReadable} == EPOLLIN && uint32_t{kWritable} == EPOLLOUT &&
              uint32_t{kIoError} == EPOLLERR && uint32_t{kHangup} == EPOLLHUP &&
              uint32_t{kReadHangup} == EPOLLRDHUP && uint32_t{kEdgeTriggered} == EPOLLET);

namespace {

// Events returned by one epoll_wait; more wait for the next call.
constexpr int kMaxEventsPerWait = 256;
// The eventfd's registration is told apart from descriptors by this generation.
constexpr uint32_t kWakeupGeneration = 0;

uint64_t monotonic_ms() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

uint64_t pack(int fd, uint32_t generation) noexcept {
  return (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(fd);
}

class CallbackHandler final : public IoHandler {
 public:
  explicit CallbackHandler(std::function<void(uint32_t)> fn) : fn_(std::move(fn)) {}
  void on_io(uint32_t events) noexcept override { fn_(events); }

 private:
  std::function<void(uint32_t)> fn_;
};

}  // namespace

Reactor::Reactor() {
  // Held by UniqueFd until nothing can throw: a constructor that throws runs no destructor.
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  UniqueFd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup) throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = pack(wakeup.get(), kWakeupGeneration);
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wakeup.get(), &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD eventfd)");
  now_ms_ = monotonic_ms();
  epoll_ = epoll.release();
  wakeup_ = wakeup.release();
}

Reactor::~Reactor() {
  ::close(wakeup_);
  ::close(epoll_);
}

int Reactor::add(int fd, uint32_t events, IoHandler* handler) noexcept {
  if (fd < 0 || handler == nullptr) return EINVAL;
  if (static_cast<size_t>(fd) >= table_.size()) {
    try {
      table_.resize(static_cast<size_t>(fd) + 1 + table_.size() / 2);
    } catch (const std::bad_alloc&) {
      return ENOMEM;
    }
  }
  Entry& entry = table_[static_cast<size_t>(fd)];
  if (entry.handler != nullptr) return EEXIST;
  // Generation 0 is the eventfd's; skip it when the counter wraps.
  if (++next_generation_ == kWakeupGeneration) ++next_generation_;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, next_generation_);
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno;
  entry.handler = handler;
  entry.generation = next_generation_;
  ++registered_;
  return 0;
}

int Reactor::add(int fd, uint32_t events, std::function<void(uint32_t)> callback) {
  auto handler = std::make_unique<CallbackHandler>(std::move(callback));
  int err = add(fd, events, handler.get());
  if (err == 0) table_[static_cast<size_t>(fd)].owned = std::move(handler);
  return err;
}

int Reactor::modify(int fd, uint32_t events) noexcept {
  if (fd < 0 || static_cast<size_t>(fd) >= table_.size() || !table_[fd].handler) return ENOENT;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, table_[fd].generation);
  return ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : errno;
}

int Reactor::remove(int fd) noexcept {
  if (fd < 0 || static_cast<size_t>(fd) >= table_.size() || !table_[fd].handler) return ENOENT;
  int err = ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr) == 0 ? 0 : errno;
  forget(fd);
  return err;
}

void Reactor::forget(int fd) noexcept {
  if (fd < 0 || static_cast<size_t>(fd) >= table_.size() || !table_[fd].handler) return;
  Entry& entry = table_[static_cast<size_t>(fd)];
  entry.handler = nullptr;
  entry.generation = 0;  // events of this batch still carrying the old generation are dropped
  entry.owned.reset();
  --registered_;
}

Reactor::TimerId Reactor::add_timer(uint64_t delay_ms, uint64_t repeat_ms,
                                    std::function<void()> fn) {
  TimerId id = next_timer_id_++;
  uint64_t deadline = update_now() + delay_ms;
  timers_.emplace(TimerKey{deadline, id}, Timer{repeat_ms, std::move(fn)});
  timer_deadlines_.emplace(id, deadline);
  return id;
}

bool Reactor::cancel_timer(TimerId id) noexcept {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(TimerKey{it->second, id});
  timer_deadlines_.erase(it);
  return true;
}

Reactor::HookId Reactor::add_before_sleep(std::function<void()> fn) {
  HookId id = next_hook_id_++;
  (running_hooks_ ? added_while_running_ : before_sleep_).push_back({id, std::move(fn)});
  return id;
}

bool Reactor::remove_before_sleep(HookId id) noexcept {
  for (auto* hooks : {&before_sleep_, &added_while_running_}) {
    auto it =
        std::find_if(hooks->begin(), hooks->end(), [id](const Hook& h) { return h.id == id; });
    if (it == hooks->end()) continue;
    if (running_hooks_ && hooks == &before_sleep_) {
      it->id = 0;  // it may be the hook that is running: destroyed once they have all run
    } else {
      hooks->erase(it);
    }
    return true;
  }
  return false;
}

void Reactor::run_before_sleep() noexcept {
  running_hooks_ = true;
  for (Hook& hook : before_sleep_)
    if (hook.id != 0) hook.fn();
  running_hooks_ = false;
  std::erase_if(before_sleep_, [](const Hook& h) { return h.id == 0; });
  if (!added_while_running_.empty()) {
    for (Hook& hook : added_while_running_) before_sleep_.push_back(std::move(hook));
    added_while_running_.clear();
  }
}

void Reactor::post(std::function<void()> fn) {
  bool wake;
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
    wake = !std::exchange(wakeup_pending_, true);
  }
  if (!wake) return;  // a wake-up is already on its way; one write per batch of posts
  uint64_t one = 1;
  while (::write(wakeup_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Reactor::drain_posted() noexcept {
  uint64_t count;
  while (::read(wakeup_, &count, sizeof count) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard lock(posted_mutex_);
    running_.swap(posted_);
    wakeup_pending_ = false;
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

int Reactor::run_due_timers() noexcept {
  int ran = 0;
  while (!timers_.empty()) {
    auto it = timers_.begin();
    if (it->first.first > now_ms_) break;
    TimerId id = it->first.second;
    // Move the timer out before calling it: the callback may add or cancel timers.
    Timer timer = std::move(it->second);
    timers_.erase(it);
    timer_deadlines_.erase(id);
    if (timer.repeat_ms != 0) {
      uint64_t next = now_ms_ + timer.repeat_ms;
      auto [slot, inserted] = timers_.emplace(TimerKey{next, id}, Timer{timer.repeat_ms, {}});
      timer_deadlines_.emplace(id, next);
      timer.fn();
      // The callback may have cancelled its own repeating timer.
      auto again = timer_deadlines_.find(id);
      if (again != timer_deadlines_.end()) slot->second.fn = std::move(timer.fn);
      (void)inserted;
    } else {
      timer.fn();
    }
    ++ran;
  }
  return ran;
}

int Reactor::next_timeout() const noexcept {
  {
    std::lock_guard lock(posted_mutex_);
    if (!posted_.empty()) return 0;
  }
  uint64_t deadline = wake_by_ms_ != 0 ? wake_by_ms_ : UINT64_MAX;
  if (!timers_.empty()) deadline = std::min(deadline, timers_.begin()->first.first);
  if (deadline == UINT64_MAX) return -1;
  uint64_t now = monotonic_ms();
  if (deadline <= now) return 0;
  uint64_t wait = deadline - now;
  return wait > 0x7fffffff ? 0x7fffffff : static_cast<int>(wait);
}

uint64_t Reactor::update_now() noexcept { return now_ms_ = monotonic_ms(); }

void Reactor::run() {
  stopped_ = false;
  while (!stopped_) run_once(-1);
}

int Reactor::run_once(int timeout_ms) {
  epoll_event events[kMaxEventsPerWait];
  int n;
  for (;;) {
    int wait_ms = next_timeout();
    if (timeout_ms >= 0 && (wait_ms < 0 || timeout_ms < wait_ms)) wait_ms = timeout_ms;
    n = ::epoll_wait(epoll_, events, kMaxEventsPerWait, wait_ms);
    if (n >= 0) break;
    if (errno != EINTR) {
      // Only a bug (bad descriptor, bad pointer) makes epoll_wait fail: stop loudly.
      std::fprintf(stderr, "epoll_wait: %s\n", std::strerror(errno));
      std::abort();
    }
    // EINTR: a signal arrived; wait again with a recomputed timeout (libuv does the same).
  }
  update_now();

  int ran = 0;
  for (int i = 0; i < n; ++i) {
    int fd = static_cast<int>(static_cast<uint32_t>(events[i].data.u64));
    uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    if (generation == kWakeupGeneration) {
      drain_posted();
      ++ran;
      continue;
    }
    // Re-read the table: an earlier callback of this batch may have removed this fd, or
    // removed it and registered a new descriptor with the same number.
    if (static_cast<size_t>(fd) >= table_.size()) continue;
    Entry& entry = table_[static_cast<size_t>(fd)];
    if (entry.handler == nullptr || entry.generation != generation) continue;
    entry.handler->on_io(events[i].events);
    ++ran;
  }
  ran += run_due_timers();
  wake_by_ms_ = 0;
  // Last, so that the work of this iteration (log lines, closed connections) is done before
  // anyone sleeps: run() in epoll_wait, or a host loop in its own poll() after run_once(0).
  run_before_sleep();
  return ran;
}

}  // namespace hs
