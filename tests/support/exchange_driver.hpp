// ExchangeDriver: a connection's request loop (Exchange, exchange.hpp) driven from memory, for
// the fuzzer, the benchmarks and unit tests: bytes in as reads would bring them, and what the
// exchange would send collected instead of sent. It is a transport, not a copy of the loop:
// every decision (order, framing, streams, uploads, deferred responses, closing) is the
// Exchange's, as it is for a socket's Connection.
//
// The client is modelled as reading everything at once: output is taken as soon as it is
// produced, and a body sent from where it lies (a file, a shared string) is read into the
// output as a socket would carry it. Wake-ups (a producer's waker, a reader's resume, a
// deferred send) run another round, as a Connection's serve() does. A response that hands the
// connection over calls its taker as Connection::hand_off() does, with fd -1: there is no
// socket to give, but what the client sent past the request is handed over as it would be.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "exchange.hpp"

namespace hs::test {

class ExchangeDriver final : private ExchangeHost {
 public:
  // `keep_output` false: the output is counted (output_bytes()), not kept; for benchmarks.
  explicit ExchangeDriver(ExchangeShared& shared, bool keep_output = true)
      : exchange_(shared, *this),
        keep_output_(keep_output),
        time_requests_(shared.settings.time_requests) {}

  // Bytes as one read would bring them; runs rounds until the exchange waits. Returns how many
  // it took: the rest stays with the client (in the kernel, for a socket) while the exchange
  // does not take input (a deferred response, a paused body reader, a producer), or for good
  // once the connection has ended.
  size_t receive(std::string_view bytes) noexcept {
    size_t taken = 0;
    while (!done() && !bytes.empty()) {
      if (!exchange_.takes_input()) {
        round();
        if (!exchange_.takes_input()) break;  // waits for a producer, a reader, a send
      }
      std::span<char> room = exchange_.read_room();
      if (room.empty()) break;  // refused (413, 431): nothing more is read
      size_t n = std::min(room.size(), bytes.size());
      std::memcpy(room.data(), bytes.data(), n);
      // The read's time, as a Connection gives it: an access line's duration counts from it.
      exchange_.received(n, time_requests_ ? monotonic_ns() : 0);
      bytes.remove_prefix(n);
      taken += n;
      round();
    }
    round();
    return taken;
  }

  // The client's EOF.
  void receive_eof() noexcept {
    exchange_.received_eof();
    round();
    eof_ = true;
    settle();
  }

  // Another round, for a wake-up from outside (a deferred response sent from a test).
  void round() noexcept {
    do {
      woken_ = false;
      exchange_.advance();
      take_output();
    } while (woken_ && !done());
    settle();
  }

  std::string& output() noexcept { return out_; }
  size_t output_bytes() const noexcept { return output_bytes_; }
  Exchange& exchange() noexcept { return exchange_; }
  // The connection has ended: closed, handed over, or broken.
  bool closed() const noexcept { return closed_; }
  // The exchange will parse nothing more: a response closes, or it was handed over.
  bool stopped() const noexcept { return stopped_ || closed_; }
  bool handed_over() const noexcept { return handed_over_; }
  Exchange::Next next() const noexcept { return next_; }

 private:
  void wake() noexcept override { woken_ = true; }
  void wake_soon() noexcept override { woken_ = true; }

  bool done() const noexcept { return closed_; }

  void take_output() noexcept {
    for (;;) {
      std::string_view out = exchange_.output();
      if (!out.empty()) {
        output_bytes_ += out.size();
        if (keep_output_) out_.append(out);
        exchange_.sent(out.size(), 0, 0);
        continue;
      }
      OutputTail* tail = exchange_.tail();
      if (!tail) return;
      uint64_t n = tail->left;
      if (tail->memory) {
        out_.append(tail->memory->data() + tail->offset, n);
      } else {
        std::string piece(n, '\0');
        ssize_t got = ::pread(tail->file->fd(), piece.data(), n, static_cast<off_t>(tail->offset));
        if (got != static_cast<ssize_t>(n)) {  // shrunk: the connection ends short
          if (got > 0) out_.append(piece.data(), static_cast<size_t>(got));
          return close();
        }
        out_.append(piece);
      }
      exchange_.sent(0, n, 0);
    }
  }

  void settle() noexcept {
    if (closed_) return;
    if (exchange_.broken()) return close();
    next_ = exchange_.next();
    switch (next_) {
      case Exchange::Next::hand_over:
        handed_over_ = true;
        hand_off();
        return close();
      case Exchange::Next::close:
      case Exchange::Next::linger:
        stopped_ = true;
        return close();
      case Exchange::Next::request:
      case Exchange::Next::body:
        if (eof_) close();  // a request cut short: closed without an answer
        return;
      default:
        return;
    }
  }

  void hand_off() noexcept {
    TakeOver take = exchange_.take_over();
    try {
      if (take) take(-1, exchange_.unparsed());
    } catch (...) {  // a Connection closes the descriptor: here there is none
    }
  }

  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    exchange_.close();
  }

  Exchange exchange_;
  bool keep_output_;
  bool time_requests_;
  std::string out_;
  size_t output_bytes_ = 0;
  Exchange::Next next_ = Exchange::Next::fresh;
  bool woken_ = false;
  bool eof_ = false;
  bool stopped_ = false;
  bool closed_ = false;
  bool handed_over_ = false;
};

}  // namespace hs::test
