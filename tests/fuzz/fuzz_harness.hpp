// The connection fuzzer's client side: feeds one input to one or more connections (Exchanges
// through hs::test::ExchangeDriver, sharing one ExchangeShared as one reactor's connections
// do), in pieces, and between pieces does what the handler left to do later, in an order drawn
// from the input: sends, drops or times out deferred responses, resumes paused BodyReaders,
// calls idle producers' wakers.
//
// As a socket would: input is read only while the exchange takes it (the rest waits, as in
// the kernel), and the client's EOF is seen only then too. When no connection takes input,
// at least one pending thing is done; when nothing is pending either, the exchange waits for
// nothing, which is a violation. Before the EOF everything pending has been done, so every
// request the connection read gets its answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exchange_shared.hpp"
#include "fuzz_handler.hpp"
#include "response_reader.hpp"

namespace fuzz {

// Deterministic piece sizes (xorshift32).
struct Pieces {
  uint32_t state = 1;
  size_t max = 1;
  size_t next() {
    if (max == 1) return 1;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return 1 + state % max;
  }
};

// How one connection gets the input: whole (as one read, or as much as it takes) or in pieces.
struct Feed {
  bool split = false;
  Pieces pieces;
};

// What one connection did with the input.
struct Outcome {
  std::vector<Parsed> finals;  // final responses, in order (their raw views point into output)
  std::vector<Seen> seen;
  std::string output;
  bool closed = false;
  bool handed_over = false;
  size_t taken = 0;  // bytes of the input the connection read
};

// Runs one connection per feed; fills `outcomes` (all but finals) in place.
void drive(hs::ExchangeShared& shared, World& world, std::string_view input,
           const std::vector<Feed>& feeds, std::vector<Outcome>& outcomes);

}  // namespace fuzz
