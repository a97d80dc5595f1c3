// How much room the exchange gives each read of a request body: the rest of a Content-Length
// body read whole as soon as its head is in, a large piece of a streamed one from its first
// read, and on a kept-alive connection the large buffer of the last upload, from the pool,
// rather than a new one. Driven from memory: the test plays the transport and fills exactly
// the room it is given.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <httpserver/reactor.hpp>

#include "exchange_driver.hpp"
#include "exchange_shared.hpp"

namespace hs::test {
namespace {

constexpr size_t kStreamedPiece = 64 * 1024;

// Counts the body as it comes, answers its size.
class Counter final : public BodyReader {
 public:
  Next data(std::string_view piece) override {
    bytes_ += piece.size();
    return Next::more;
  }
  void end(Response& response) override { response.body = std::to_string(bytes_); }

 private:
  size_t bytes_ = 0;
};

class BodyReads : public ::testing::Test {
 protected:
  // `streamed`: requests to /stream are read through a BodyReader.
  void start(bool streamed, size_t max_body_bytes = 1024 * 1024) {
    Limits limits;
    limits.max_body_bytes = max_body_bytes;
    Handler handler = [](const Request& request, Response& response) {
      if (request.body_pending())
        response.read_body(std::make_shared<Counter>());
      else
        response.body = std::to_string(request.body().size());
    };
    shared_ = std::make_unique<ExchangeShared>(reactor_, limits, handler, nullptr, "t");
    if (streamed) {
      shared_->settings.stream_body = [](const Request& q) { return q.path() == "/stream"; };
      shared_->worker.codec_rules.head_first = true;
    }
    driver_ = std::make_unique<ExchangeDriver>(*shared_);
  }
  void TearDown() override {
    driver_.reset();
    shared_.reset();
  }

  Exchange& exchange() { return driver_->exchange(); }
  BufferPool& pool() { return shared_->worker.pool; }

  // One read: as much of `bytes` as the room takes; returns the room's size.
  size_t read(std::string_view& bytes) {
    std::span<char> room = exchange().read_room();
    size_t n = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), n);
    exchange().received(n, 0);
    bytes.remove_prefix(n);
    driver_->round();
    return room.size();
  }

  // Sends `request` as reads that fill their room; returns how many reads it took.
  int reads_for(std::string_view request) {
    int reads = 0;
    while (!request.empty() && !driver_->closed()) {
      read(request);
      ++reads;
    }
    return reads;
  }

  static std::string post(std::string_view path, size_t length) {
    return "POST " + std::string(path) +
           " HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n" +
           std::string(length, 'b');
  }

  Reactor reactor_;
  std::unique_ptr<ExchangeShared> shared_;
  std::unique_ptr<ExchangeDriver> driver_;
};

TEST_F(BodyReads, ReadsTheRestOfAContentLengthBodyInOneReadOnceItsHeadIsIn) {
  start(false);
  for (size_t length : {5'000u, 64u * 1024, 200'000u, 256u * 1024}) {
    driver_->output().clear();
    // The first read, the standard buffer's worth, brings the head; the second the rest.
    EXPECT_EQ(reads_for(post("/", length)), 2) << length;
    EXPECT_NE(driver_->output().find("\r\n\r\n" + std::to_string(length)), std::string::npos);
    EXPECT_EQ(driver_->next(), Exchange::Next::idle);
  }
}

// A head announcing a large body gets 256 KiB of room, not its whole Content-Length: past
// that, the room grows with the bytes that have come, so a larger body takes a few reads.
TEST_F(BodyReads, GivesALargeBodyRoomAsItComesNotAllAtItsHead) {
  start(false);
  std::string request = post("/", 1024 * 1024);
  std::string_view rest = request;
  read(rest);  // the head
  size_t room = exchange().read_room().size();
  EXPECT_GE(room, 256u * 1024);
  EXPECT_LT(room, 300u * 1024);
  int reads = 1;
  while (!rest.empty()) {
    read(rest);
    ++reads;
  }
  EXPECT_LE(reads, 5);
  EXPECT_NE(driver_->output().find("\r\n\r\n" + std::to_string(1024 * 1024)), std::string::npos);
}

TEST_F(BodyReads, LeavesRoomPastTheBodySoThatTheReadEndingItIsShort) {
  start(false);
  std::string request = post("/", 64 * 1024);
  std::string_view rest = request;
  read(rest);
  // A read that fills its room says nothing of whether more is waiting: the transport would
  // read again, only to hear EAGAIN.
  EXPECT_GT(exchange().read_room().size(), rest.size());
}

TEST_F(BodyReads, ReadsAStreamedBodyInLargePiecesFromItsFirstBodyRead) {
  start(true);
  std::string request = post("/stream", 1024 * 1024);
  std::string_view rest = request;
  read(rest);  // the head and the start of the body
  size_t read_back = 0;
  while (rest.size() > kStreamedPiece) {
    EXPECT_GE(read(rest), kStreamedPiece);
    ++read_back;
  }
  EXPECT_LE(read_back, 16u);
  read(rest);
  EXPECT_NE(driver_->output().find("\r\n\r\n" + std::to_string(1024 * 1024)), std::string::npos);
  EXPECT_EQ(driver_->next(), Exchange::Next::idle);
}

TEST_F(BodyReads, ReusesTheLargeBufferOfTheLastUploadOnAKeptAliveConnection) {
  start(true);
  EXPECT_EQ(reads_for(post("/", 64 * 1024)), 2);
  // Idle again: the small buffer and the large one are back in the pool.
  EXPECT_EQ(driver_->next(), Exchange::Next::idle);
  EXPECT_EQ(pool().free_large_reads(), 1u);
  for (std::string_view path : {"/", "/stream", "/"}) {
    std::string request = post(path, 64 * 1024 - 300);
    std::string_view rest = request;
    read(rest);  // the head: the next read's room is made for the body
    exchange().read_room();
    EXPECT_EQ(pool().free_large_reads(), 0u) << path;  // the request has it
    while (!rest.empty()) read(rest);
    EXPECT_EQ(pool().free_large_reads(), 1u) << path;  // and gave it back
  }
}

TEST_F(BodyReads, AnswersAContentLengthOverTheLimitWith413BeforeMakingRoomForIt) {
  start(false, 100'000);
  EXPECT_EQ(reads_for(post("/", 100'000)), 2);
  EXPECT_NE(driver_->output().find("\r\n\r\n100000"), std::string::npos);
  driver_->output().clear();
  std::string request = post("/", 100'001);
  std::string_view rest = request;
  read(rest);
  EXPECT_EQ(driver_->output().substr(0, 12), "HTTP/1.1 413");
  EXPECT_TRUE(driver_->closed());
  EXPECT_EQ(pool().free_large_reads(), 1u);  // only the first request's
}

}  // namespace
}  // namespace hs::test
