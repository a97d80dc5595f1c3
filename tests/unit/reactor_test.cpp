#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <httpserver/reactor.hpp>

namespace hs {
namespace {

using Clock = std::chrono::steady_clock;

int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// Whether `fd` polls readable within `timeout_ms`.
bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

// Runs iterations until `done` or `budget_ms` has passed; every wait is bounded.
template <class Pred>
bool run_until(Reactor& reactor, Pred done, int budget_ms = 2000) {
  auto start = Clock::now();
  while (!done()) {
    if (elapsed_ms(start) > budget_ms) return false;
    reactor.run_once(10);
  }
  return true;
}

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0); }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
};

TEST(Reactor, TimersFireInDeadlineOrder) {
  Reactor reactor;
  std::vector<int> fired;
  reactor.add_timer(30, 0, [&] { fired.push_back(3); });
  reactor.add_timer(10, 0, [&] { fired.push_back(1); });
  reactor.add_timer(20, 0, [&] {
    fired.push_back(2);
    reactor.stop();
  });
  reactor.add_timer(1000, 0, [&] { fired.push_back(99); });
  while (!reactor.stopped()) reactor.run_once(-1);
  reactor.run_once(40);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(reactor.pending_timers(), 1u);
}

TEST(Reactor, TimersDueAtTheSameTimeFireInTheOrderTheyWereAdded) {
  Reactor reactor;
  std::vector<int> fired;
  for (int i = 0; i < 10; ++i) reactor.add_timer(0, 0, [&fired, i] { fired.push_back(i); });
  ASSERT_TRUE(run_until(reactor, [&] { return fired.size() == 10; }));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(reactor.pending_timers(), 0u);
}

TEST(Reactor, ATimerDoesNotFireBeforeItsDelay) {
  Reactor reactor;
  bool fired = false;
  auto start = Clock::now();
  reactor.add_timer(50, 0, [&] { fired = true; });
  ASSERT_TRUE(run_until(reactor, [&] { return fired; }));
  EXPECT_GE(elapsed_ms(start), 49);
}

TEST(Reactor, RepeatingTimerRepeatsUntilItCancelsItself) {
  Reactor reactor;
  int count = 0;
  Reactor::TimerId id = 0;
  bool cancelled = false;
  id = reactor.add_timer(1, 2, [&] {
    if (++count == 3) cancelled = reactor.cancel_timer(id);
  });
  ASSERT_TRUE(run_until(reactor, [&] { return count == 3; }));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(reactor.pending_timers(), 0u);
  // Several more periods: a cancelled timer must not come back.
  auto start = Clock::now();
  while (elapsed_ms(start) < 20) reactor.run_once(5);
  EXPECT_EQ(count, 3);
  EXPECT_EQ(reactor.next_timeout(), -1);
}

TEST(Reactor, RepeatingTimerCanBeCancelledFromOutside) {
  Reactor reactor;
  int count = 0;
  auto id = reactor.add_timer(0, 1, [&] { ++count; });
  ASSERT_TRUE(run_until(reactor, [&] { return count >= 2; }));
  EXPECT_TRUE(reactor.cancel_timer(id));
  int seen = count;
  auto start = Clock::now();
  while (elapsed_ms(start) < 10) reactor.run_once(2);
  EXPECT_EQ(count, seen);
}

TEST(Reactor, ATimerCanCancelAnotherDueInTheSameIteration) {
  Reactor reactor;
  std::vector<int> fired;
  Reactor::TimerId second = 0;
  reactor.add_timer(0, 0, [&] {
    fired.push_back(1);
    EXPECT_TRUE(reactor.cancel_timer(second));
  });
  second = reactor.add_timer(0, 0, [&] { fired.push_back(2); });
  reactor.add_timer(0, 0, [&] { fired.push_back(3); });
  ASSERT_TRUE(run_until(reactor, [&] { return fired.size() >= 2; }));
  reactor.run_once(0);
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

TEST(Reactor, CancelTimerReturnsFalseForAnIdThatIsNotPending) {
  Reactor reactor;
  EXPECT_FALSE(reactor.cancel_timer(12345));
  bool fired = false;
  auto once = reactor.add_timer(0, 0, [&] { fired = true; });
  ASSERT_TRUE(run_until(reactor, [&] { return fired; }));
  EXPECT_FALSE(reactor.cancel_timer(once));  // already fired
  auto later = reactor.add_timer(10'000, 0, [] {});
  EXPECT_TRUE(reactor.cancel_timer(later));
  EXPECT_FALSE(reactor.cancel_timer(later));  // already cancelled
  EXPECT_EQ(reactor.pending_timers(), 0u);
}

TEST(Reactor, PostFromAnotherThreadWakesTheLoop) {
  Reactor reactor;
  std::atomic<bool> ran{false};
  std::thread other([&] {
    reactor.post([&] {
      ran = true;
      reactor.stop();
    });
  });
  reactor.run();  // would block forever without the wake-up: no timers, no descriptors
  other.join();
  EXPECT_TRUE(ran);
}

TEST(Reactor, PostWakesARunThatIsAlreadyBlocked) {
  Reactor reactor;
  bool by_post = false, by_watchdog = false;
  // A watchdog bounds the test: if post() does not wake the loop, the loop sleeps until it.
  reactor.add_timer(5000, 0, [&] {
    by_watchdog = true;
    reactor.stop();
  });
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the loop is asleep by now
    reactor.post([&] {
      by_post = true;
      reactor.stop();
    });
  });
  auto start = Clock::now();
  reactor.run();
  other.join();
  EXPECT_TRUE(by_post);
  EXPECT_FALSE(by_watchdog);
  EXPECT_LT(elapsed_ms(start), 2000);
}

TEST(Reactor, PostedFunctionsRunInTheOrderTheyWerePosted) {
  Reactor reactor;
  std::vector<int> order;
  constexpr int kCount = 1000;
  std::thread other([&] {
    for (int i = 0; i < kCount; ++i) reactor.post([&order, i] { order.push_back(i); });
  });
  other.join();
  ASSERT_TRUE(run_until(reactor, [&] { return order.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[static_cast<size_t>(i)], i);
}

TEST(Reactor, AFunctionPostedFromAPostedFunctionRunsOnALaterIteration) {
  Reactor reactor;
  std::vector<std::string> order;
  reactor.post([&] {
    order.push_back("first");
    reactor.post([&] { order.push_back("nested"); });
  });
  reactor.post([&] { order.push_back("second"); });
  ASSERT_TRUE(run_until(reactor, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "nested"}));
}

TEST(Reactor, RunOnceWithZeroTimeoutDoesNotBlock) {
  Reactor reactor;
  reactor.add_timer(10'000, 0, [] {});
  SocketPair s;
  ASSERT_EQ(reactor.add(s.fd[0], kReadable, [](uint32_t) {}), 0);
  auto start = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(reactor.run_once(0), 0);
  EXPECT_LT(elapsed_ms(start), 500);
  reactor.remove(s.fd[0]);
}

TEST(Reactor, RunOnceCountsTheCallbacksItRan) {
  Reactor reactor;
  SocketPair s;
  int io = 0;
  ASSERT_EQ(reactor.add(s.fd[0], kReadable,
                        [&](uint32_t) {
                          char c;
                          while (::read(s.fd[0], &c, 1) == 1) {
                          }
                          ++io;
                        }),
            0);
  ASSERT_EQ(::write(s.fd[1], "x", 1), 1);
  reactor.add_timer(0, 0, [] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(reactor.run_once(100), 2);  // the descriptor and the timer
  EXPECT_EQ(io, 1);
  reactor.remove(s.fd[0]);
}

TEST(Reactor, NextTimeoutIsMinusOneWithoutTimersAndTracksTheEarliestTimer) {
  Reactor reactor;
  EXPECT_EQ(reactor.next_timeout(), -1);
  auto late = reactor.add_timer(5000, 0, [] {});
  int t = reactor.next_timeout();
  EXPECT_GT(t, 4000);
  EXPECT_LE(t, 5000);
  auto early = reactor.add_timer(300, 0, [] {});
  t = reactor.next_timeout();
  EXPECT_GT(t, 200);
  EXPECT_LE(t, 300);
  reactor.cancel_timer(early);
  EXPECT_GT(reactor.next_timeout(), 4000);
  reactor.cancel_timer(late);
  EXPECT_EQ(reactor.next_timeout(), -1);
}

TEST(Reactor, NextTimeoutIsZeroOnceATimerIsDue) {
  Reactor reactor;
  reactor.add_timer(5, 0, [] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(reactor.next_timeout(), 0);
}

// reactor.hpp: "0 when one is due or posted work is waiting". A host loop that sleeps
// next_timeout() ms must not sleep with work queued.
TEST(Reactor, NextTimeoutIsZeroWhilePostedWorkIsWaiting) {
  Reactor reactor;
  reactor.add_timer(10'000, 0, [] {});
  bool ran = false;
  reactor.post([&] { ran = true; });
  EXPECT_EQ(reactor.next_timeout(), 0);
  reactor.run_once(0);
  EXPECT_TRUE(ran);
  EXPECT_GT(reactor.next_timeout(), 0);
}

TEST(Reactor, FdPollsReadableWhenARegisteredSocketHasData) {
  Reactor reactor;
  SocketPair s;
  std::string got;
  ASSERT_EQ(reactor.add(s.fd[0], kReadable,
                        [&](uint32_t events) {
                          EXPECT_TRUE(events & kReadable);
                          char buf[16];
                          ssize_t n;
                          while ((n = ::read(s.fd[0], buf, sizeof buf)) > 0)
                            got.append(buf, static_cast<size_t>(n));
                        }),
            0);
  EXPECT_FALSE(readable(reactor.fd(), 0));
  ASSERT_EQ(::write(s.fd[1], "abc", 3), 3);
  ASSERT_TRUE(readable(reactor.fd(), 1000));
  EXPECT_EQ(reactor.run_once(0), 1);
  EXPECT_EQ(got, "abc");
  EXPECT_FALSE(readable(reactor.fd(), 0));  // drained: a host loop may sleep again
  EXPECT_EQ(reactor.remove(s.fd[0]), 0);
}

TEST(Reactor, FdPollsReadableWhenWorkIsPostedSoAHostLoopCanEmbedIt) {
  Reactor reactor;
  EXPECT_FALSE(readable(reactor.fd(), 0));
  std::atomic<bool> ran{false};
  std::thread other([&] { reactor.post([&] { ran = true; }); });
  other.join();
  // The host loop: poll the reactor's descriptor, then run_once(0).
  ASSERT_TRUE(readable(reactor.fd(), 1000));
  EXPECT_FALSE(ran);
  reactor.run_once(0);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(readable(reactor.fd(), 0));
}

// At the end of each iteration, after its work: a host that calls run_once(0) and then sleeps
// in its own poll() must find log lines flushed and closed connections freed.
TEST(Reactor, BeforeSleepHooksRunAtTheEndOfEveryIterationAfterItsWork) {
  Reactor reactor;
  std::vector<std::string> order;
  reactor.add_before_sleep([&] { order.push_back("hook1"); });
  reactor.add_before_sleep([&] { order.push_back("hook2"); });
  reactor.post([&] { order.push_back("posted"); });
  reactor.run_once(0);
  reactor.run_once(0);
  reactor.run_once(0);
  EXPECT_EQ(order, (std::vector<std::string>{"posted", "hook1", "hook2", "hook1", "hook2", "hook1",
                                             "hook2"}));
}

// A hook runs until it is removed, even by itself while it runs; one added by a hook first
// runs in the next iteration. (A Server removes its hook when destroyed, a Logger on detach.)
TEST(Reactor, BeforeSleepHooksCanBeRemovedAtAnyTime) {
  Reactor reactor;
  std::vector<std::string> order;
  Reactor::HookId second = 0, self = 0;
  reactor.add_before_sleep([&] { order.push_back("first"); });
  second = reactor.add_before_sleep([&] { order.push_back("second"); });
  self = reactor.add_before_sleep([&] {
    order.push_back("once");
    EXPECT_TRUE(reactor.remove_before_sleep(self));
    reactor.add_before_sleep([&] { order.push_back("added"); });
  });
  reactor.run_once(0);
  EXPECT_TRUE(reactor.remove_before_sleep(second));
  EXPECT_FALSE(reactor.remove_before_sleep(second));
  EXPECT_FALSE(reactor.remove_before_sleep(self));
  reactor.run_once(0);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "once", "first", "added"}));
}

// A hook that held work back (the log's tail) asks for a wake-up: a loop with nothing else
// to do must not sleep past it, and the next iteration forgets it unless asked again.
TEST(Reactor, AHookAskingToBeWokenEndsTheNextSleepByThen) {
  Reactor reactor;
  int asks = 1;
  reactor.add_before_sleep([&] {
    if (asks-- > 0) reactor.wake_by(reactor.now_ms() + 20);
  });
  EXPECT_EQ(reactor.next_timeout(), -1);
  reactor.run_once(0);  // the hook asks once
  int t = reactor.next_timeout();
  EXPECT_GE(t, 0);
  EXPECT_LE(t, 20);
  // Nothing else can wake this wait: a post from another thread, 1 s later, is the fallback
  // that shows it would have slept (the post's callback counts as work run).
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    reactor.post([] {});
  });
  EXPECT_EQ(reactor.run_once(-1), 0) << "slept until the post instead of the asked wake-up";
  EXPECT_EQ(reactor.next_timeout(), -1);  // not asked again: sleep until something happens
  EXPECT_EQ(reactor.run_once(-1), 1);     // the post
  late.join();
}

// epoll refuses descriptors whose file has no poll method, and reports it as EPERM. A memfd is
// such a file wherever the test runs; a file made in /tmp is not: on fuse-overlayfs (rootless or
// nested podman builds) a regular file accepts epoll.
TEST(Reactor, AddingADescriptorEpollRefusesFailsWithEperm) {
  Reactor reactor;
  int fd = ::memfd_create("reactor_test", MFD_CLOEXEC);
  ASSERT_GE(fd, 0) << "memfd_create: " << std::strerror(errno);
  EXPECT_EQ(reactor.add(fd, kReadable, [](uint32_t) {}), EPERM);
  EXPECT_EQ(reactor.registered(), 0u);
  // The failed registration left nothing behind: removing it says it is unknown.
  EXPECT_EQ(reactor.remove(fd), ENOENT);
  ::close(fd);
}

TEST(Reactor, AddingADescriptorTwiceFailsWithEexistAndRemovingAnUnknownOneWithEnoent) {
  Reactor reactor;
  SocketPair s;
  ASSERT_EQ(reactor.add(s.fd[0], kReadable, [](uint32_t) {}), 0);
  EXPECT_EQ(reactor.add(s.fd[0], kReadable, [](uint32_t) {}), EEXIST);
  EXPECT_EQ(reactor.registered(), 1u);
  EXPECT_EQ(reactor.remove(s.fd[0]), 0);
  EXPECT_EQ(reactor.remove(s.fd[0]), ENOENT);
  EXPECT_EQ(reactor.remove(-1), ENOENT);
  EXPECT_EQ(reactor.registered(), 0u);
}

TEST(Reactor, ModifyChangesTheEventsReported) {
  Reactor reactor;
  SocketPair s;
  uint32_t last = 0;
  int calls = 0;
  ASSERT_EQ(reactor.add(s.fd[0], kReadable,
                        [&](uint32_t events) {
                          last = events;
                          ++calls;
                        }),
            0);
  EXPECT_EQ(reactor.run_once(0), 0);  // nothing to read yet
  ASSERT_EQ(reactor.modify(s.fd[0], kWritable), 0);
  EXPECT_EQ(reactor.run_once(100), 1);  // a fresh socket is writable
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(last & kWritable);
  EXPECT_EQ(reactor.modify(s.fd[1], kReadable), ENOENT);
  reactor.remove(s.fd[0]);
}

TEST(Reactor, DropsEventsOfADescriptorRemovedEarlierInTheSameBatch) {
  Reactor reactor;
  int a[2], b[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
  int calls = 0;
  // Whichever runs first removes the other: the second must not be called.
  ASSERT_EQ(reactor.add(a[0], kReadable,
                        [&](uint32_t) {
                          ++calls;
                          reactor.remove(b[0]);
                        }),
            0);
  ASSERT_EQ(reactor.add(b[0], kReadable,
                        [&](uint32_t) {
                          ++calls;
                          reactor.remove(a[0]);
                        }),
            0);
  ASSERT_EQ(::write(a[1], "x", 1), 1);
  ASSERT_EQ(::write(b[1], "x", 1), 1);
  reactor.run_once(100);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reactor.registered(), 1u);  // the one that ran is still registered
  reactor.remove(a[0]);
  reactor.remove(b[0]);
  EXPECT_EQ(reactor.registered(), 0u);
  for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
}

TEST(Reactor, DropsEventsOfARemovedDescriptorEvenWhenItsNumberIsReusedInTheSameBatch) {
  Reactor reactor;
  SocketPair a, b;
  int fresh_peer = -1;  // the other end of the socket that takes over the reused number
  int old_calls = 0, new_calls = 0;
  // Whichever of a and b runs first closes the other and registers a new, idle socket under
  // the same descriptor number. The event already queued for the old socket must not reach
  // the new registration.
  auto replace = [&](int victim) {
    EXPECT_EQ(reactor.remove(victim), 0);
    int n[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, n), 0);
    ASSERT_EQ(::dup2(n[0], victim), victim);  // closes the old socket, reuses its number
    ::close(n[0]);
    fresh_peer = n[1];
    EXPECT_EQ(reactor.add(victim, kReadable,
                          [&, victim](uint32_t) {
                            ++new_calls;
                            char c;
                            while (::read(victim, &c, 1) == 1) {
                            }
                          }),
              0);
  };
  auto drain = [](int fd) {
    char c;
    while (::read(fd, &c, 1) == 1) {
    }
  };
  ASSERT_EQ(reactor.add(a.fd[0], kReadable,
                        [&](uint32_t) {
                          ++old_calls;
                          drain(a.fd[0]);
                          if (fresh_peer < 0) replace(b.fd[0]);
                        }),
            0);
  ASSERT_EQ(reactor.add(b.fd[0], kReadable,
                        [&](uint32_t) {
                          ++old_calls;
                          drain(b.fd[0]);
                          if (fresh_peer < 0) replace(a.fd[0]);
                        }),
            0);
  ASSERT_EQ(::write(a.fd[1], "x", 1), 1);
  ASSERT_EQ(::write(b.fd[1], "x", 1), 1);
  ASSERT_TRUE(readable(reactor.fd(), 1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // both in one batch
  reactor.run_once(100);
  EXPECT_EQ(old_calls, 1);
  EXPECT_EQ(new_calls, 0);  // the stale event was dropped, not delivered to the new socket
  EXPECT_EQ(reactor.registered(), 2u);
  // The new registration works for its own events.
  ASSERT_GE(fresh_peer, 0);
  ASSERT_EQ(::write(fresh_peer, "y", 1), 1);
  reactor.run_once(1000);
  EXPECT_EQ(new_calls, 1);
  reactor.remove(a.fd[0]);
  reactor.remove(b.fd[0]);
  EXPECT_EQ(reactor.registered(), 0u);
  ::close(fresh_peer);
}

TEST(Reactor, ACallbackRegistrationIsReleasedWhenRemoved) {
  Reactor reactor;
  SocketPair s;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  ASSERT_EQ(reactor.add(s.fd[0], kReadable, [token](uint32_t) {}), 0);
  token.reset();
  EXPECT_FALSE(watch.expired());
  EXPECT_EQ(reactor.remove(s.fd[0]), 0);
  EXPECT_TRUE(watch.expired());
}

TEST(Reactor, RunReturnsAfterStopFromAnotherThreadThroughPost) {
  Reactor reactor;
  reactor.add_timer(5000, 0, [&] { reactor.stop(); });  // watchdog
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    reactor.post([&] { reactor.stop(); });
  });
  auto start = Clock::now();
  reactor.run();
  other.join();
  EXPECT_LT(elapsed_ms(start), 2000);
  EXPECT_TRUE(reactor.stopped());
}

}  // namespace
}  // namespace hs
