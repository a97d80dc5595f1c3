#include "fuzz_harness.hpp"

#include <memory>
#include <utility>

#include "exchange_driver.hpp"
#include "fuzz_report.hpp"

namespace fuzz {

namespace {

// Far more steps than any input of -max_len needs: each step reads, finishes or ends something.
constexpr size_t kMaxSteps = 1'000'000;

struct Client {
  Run run;
  std::unique_ptr<hs::test::ExchangeDriver> driver;
  std::string_view rest;  // the input not read yet
  size_t taken = 0;
  Feed feed;
  bool eof = false;

  bool open() const { return !driver->closed(); }
};

class Harness {
 public:
  Harness(hs::ExchangeShared& shared, World& world, std::string_view input,
          const std::vector<Feed>& feeds)
      : world_(world), input_(input) {
    clients_.resize(feeds.size());
    for (size_t i = 0; i < feeds.size(); ++i) {
      Client& c = clients_[i];
      c.run.client = i;
      c.run.draining = shared.worker.draining;
      c.driver = std::make_unique<hs::test::ExchangeDriver>(shared);
      c.rest = input;
      c.feed = feeds[i];
    }
  }

  void run() {
    for (size_t step = 0;; ++step) {
      require(step < kMaxSteps, "the harness made no progress", input_);
      bool moved = feed();
      settle();
      moved = act(!moved) || moved;
      settle();
      moved = end_input() || moved;
      if (done()) return;
      if (!moved) stuck();
    }
  }

  void finish(std::vector<Outcome>& outcomes) {
    outcomes.resize(clients_.size());
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& c = clients_[i];
      Outcome& o = outcomes[i];
      o.closed = c.driver->closed();
      o.handed_over = c.driver->handed_over();
      o.output = std::move(c.driver->output());
      o.taken = c.taken;
      world_.run = &c.run;
      c.driver.reset();  // closes the exchange: its streams, readers and deferreds are cut off
      o.seen = std::move(c.run.seen);
    }
    world_.run = nullptr;
  }

 private:
  // Each connection that takes input gets its next piece (all of it, unsplit).
  bool feed() {
    bool moved = false;
    for (Client& c : clients_) {
      if (!c.open() || c.rest.empty() || !c.driver->exchange().takes_input()) continue;
      size_t n = c.feed.split ? std::min(c.feed.pieces.next(), c.rest.size()) : c.rest.size();
      world_.run = &c.run;
      size_t got = c.driver->receive(c.rest.substr(0, n));
      require(got <= n, "the driver took more than it was given");
      c.rest.remove_prefix(got);
      c.taken += got;
      moved = moved || got != 0;
    }
    return moved;
  }

  // Rounds for every wake-up the last step caused, and while an exchange has more to do once
  // its output is taken (a producer held back by the high-water mark, requests behind it).
  void settle() {
    for (Client& c : clients_) {
      world_.run = &c.run;
      for (size_t rounds = 0; c.open(); ++rounds) {
        require(rounds < kMaxSteps, "an exchange has more to do without end", input_);
        c.driver->round();
        if (!c.open() || !c.driver->exchange().more_to_do()) break;
      }
    }
  }

  // Does each pending thing with probability 1/2, in a random order; at least one if `must`.
  bool act(bool must) {
    auto& pending = world_.pending;
    bool acted = false;
    while (!pending.empty()) {
      uint32_t r = world_.next_random();
      if ((r & 1) != 0 && !(must && !acted)) break;
      size_t at = (r >> 1) % pending.size();
      Pending p = std::move(pending[at]);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(at));
      world_.run = &clients_[p.client].run;
      perform(p, [this](size_t client) {
        Client& c = clients_[client];
        if (c.open()) c.driver->exchange().deferred_timed_out();
      });
      acted = true;
    }
    return acted;
  }

  // The client's EOF, once all its input is read and the exchange would read again.
  bool end_input() {
    bool moved = false;
    for (Client& c : clients_) {
      if (c.eof || !c.open() || !c.rest.empty() || !c.driver->exchange().takes_input()) continue;
      world_.run = &c.run;
      c.driver->receive_eof();
      c.eof = true;
      moved = true;
    }
    return moved;
  }

  bool done() const {
    for (const Client& c : clients_)
      if (c.open() && !c.eof) return false;
    return world_.pending.empty();
  }

  [[noreturn]] void stuck() {
    for (Client& c : clients_) {
      if (!c.open() || c.eof) continue;
      std::fprintf(stderr, "connection %zu: %zu bytes not read, next() %d, output:\n", c.run.client,
                   c.rest.size(), static_cast<int>(c.driver->next()));
      print_escaped(c.driver->output());
    }
    violation("an exchange neither takes input nor waits for anything pending", input_);
  }

  World& world_;
  std::string_view input_;
  std::vector<Client> clients_;
};

}  // namespace

void drive(hs::ExchangeShared& shared, World& world, std::string_view input,
           const std::vector<Feed>& feeds, std::vector<Outcome>& outcomes) {
  Harness harness(shared, world, input, feeds);
  harness.run();
  harness.finish(outcomes);
}

}  // namespace fuzz
