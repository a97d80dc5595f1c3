#include "reactor.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace hs {
namespace {

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

}  // namespace
}  // namespace hs
