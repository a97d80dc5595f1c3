#include "buffer_pool.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hs {
namespace {

constexpr size_t kRead = 4096, kOutput = 64 * 1024, kMaxFree = 2;

TEST(BufferPool, HandsOutReadBuffersOfTheStandardSize) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  auto b = pool.get_read();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->capacity, kRead);
  EXPECT_EQ(b->length, 0u);
  EXPECT_EQ(b->parsed, 0u);
  EXPECT_EQ(pool.read_capacity(), kRead);
}

TEST(BufferPool, ReusesAReturnedReadBufferEmptied) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  auto b = pool.get_read();
  ReadBuffer* raw = b.get();
  const char* data = b->data.get();
  b->length = 100;
  b->parsed = 60;
  b->method = Span{0, 3};
  b->headers.push_back(HeaderSpan{Span{10, 4}, Span{16, 2}});
  b->body = Span{20, 5};
  pool.put_read(std::move(b));
  EXPECT_EQ(pool.free_reads(), 1u);

  auto again = pool.get_read();
  EXPECT_EQ(again.get(), raw);
  EXPECT_EQ(again->data.get(), data);
  EXPECT_EQ(pool.free_reads(), 0u);
  EXPECT_EQ(again->length, 0u);
  EXPECT_EQ(again->parsed, 0u);
  EXPECT_EQ(again->method.length, 0u);
  EXPECT_TRUE(again->headers.empty());
  EXPECT_EQ(again->body.length, 0u);
}

TEST(BufferPool, EnlargesAReadBufferKeepingItsBytes) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  auto b = pool.get_read();
  std::memcpy(b->data.get(), "head and a piece of body", 24);
  b->length = 24;
  b->parsed = 10;
  ASSERT_TRUE(pool.enlarge(*b, 70'000, 1 << 20));
  EXPECT_EQ(b->capacity, 70'000u);  // exactly what was asked, when allocated
  EXPECT_EQ(std::string_view(b->data.get(), b->length), "head and a piece of body");
  EXPECT_EQ(b->parsed, 10u);
}

TEST(BufferPool, KeepsALargeReadBufferAndLendsItToTheNextLargeRequest) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  auto b = pool.get_read();
  ASSERT_TRUE(pool.enlarge(*b, 70'000, 1 << 20));
  const char* large = b->data.get();
  pool.put_read(std::move(b));
  EXPECT_EQ(pool.free_large_reads(), 1u);
  EXPECT_EQ(pool.get_read()->capacity, kRead);  // a request starts small, whatever is free

  auto next = pool.get_read();
  const char* small = next->data.get();
  std::memcpy(next->data.get(), "POST", 4);
  next->length = 4;
  ASSERT_TRUE(pool.enlarge(*next, 65'000, 1 << 20));
  EXPECT_EQ(next->data.get(), large);  // the kept one: no allocation
  EXPECT_EQ(next->capacity, 70'000u);
  EXPECT_EQ(std::string_view(next->data.get(), 4), "POST");
  EXPECT_EQ(pool.free_large_reads(), 0u);
  // The small buffer it had is free again for the next request to start with.
  EXPECT_EQ(pool.free_reads(), 1u);
  EXPECT_EQ(pool.get_read()->data.get(), small);
}

TEST(BufferPool, LendsTheSmallestFreeLargeBufferThatFitsWithinTheMaximum) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  for (size_t capacity : {200'000u, 20'000u, 80'000u}) {
    auto b = pool.get_read();
    ASSERT_TRUE(pool.enlarge(*b, capacity, capacity));
    pool.put_read(std::move(b));
  }
  ASSERT_EQ(pool.free_large_reads(), 3u);
  auto b = pool.get_read();
  ASSERT_TRUE(pool.enlarge(*b, 30'000, 1 << 20));
  EXPECT_EQ(b->capacity, 80'000u);
  auto c = pool.get_read();
  ASSERT_TRUE(pool.enlarge(*c, 30'000, 100'000));  // the 200,000 one is over the maximum
  EXPECT_EQ(c->capacity, 30'000u);
}

TEST(BufferPool, KeepsLargeReadBuffersWithinItsBudget) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  // Over the largest it keeps: back to the system.
  auto huge = pool.get_read();
  ASSERT_TRUE(pool.enlarge(*huge, BufferPool::kMaxLargeReadBytes + 1, SIZE_MAX));
  pool.put_read(std::move(huge));
  EXPECT_EQ(pool.free_large_reads(), 0u);
  // One request after another reuses the one kept.
  for (int i = 0; i < 3; ++i) {
    auto b = pool.get_read();
    ASSERT_TRUE(pool.enlarge(*b, BufferPool::kMaxLargeReadBytes, SIZE_MAX));
    pool.put_read(std::move(b));
  }
  EXPECT_EQ(pool.free_large_reads(), 1u);
  // Many at once: the largest it keeps, until the bytes in all would pass the budget.
  size_t fit = BufferPool::kMaxLargeFreeBytes / BufferPool::kMaxLargeReadBytes;
  std::vector<std::unique_ptr<ReadBuffer>> held;
  for (size_t i = 0; i < fit + 2; ++i) {
    held.push_back(pool.get_read());
    ASSERT_TRUE(pool.enlarge(*held.back(), BufferPool::kMaxLargeReadBytes, SIZE_MAX));
  }
  for (auto& b : held) pool.put_read(std::move(b));
  EXPECT_EQ(pool.free_large_reads(), fit);
  // And no more than kMaxLargeFree of them, however small.
  BufferPool many(kRead, kOutput, 64);
  held.clear();
  for (size_t i = 0; i < BufferPool::kMaxLargeFree + 3; ++i) {
    held.push_back(many.get_read());
    ASSERT_TRUE(many.enlarge(*held.back(), kRead * 2, kRead * 2));
  }
  for (auto& b : held) many.put_read(std::move(b));
  EXPECT_EQ(many.free_large_reads(), BufferPool::kMaxLargeFree);
}

TEST(BufferPool, KeepsAtMostMaxFreeReadBuffers) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  auto a = pool.get_read(), b = pool.get_read(), c = pool.get_read();
  pool.put_read(std::move(a));
  pool.put_read(std::move(b));
  pool.put_read(std::move(c));
  EXPECT_EQ(pool.free_reads(), kMaxFree);
  pool.put_read(nullptr);  // harmless
  EXPECT_EQ(pool.free_reads(), kMaxFree);
}

TEST(BufferPool, ReusesAReturnedOutputStringWithItsCapacity) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  std::string out = pool.get_output();
  EXPECT_TRUE(out.empty());
  out.assign(1000, 'r');
  const char* data = out.data();
  size_t capacity = out.capacity();
  pool.put_output(out);
  EXPECT_TRUE(out.empty());  // the caller's string is handed over
  EXPECT_EQ(pool.free_outputs(), 1u);

  std::string again = pool.get_output();
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.data(), data);
  EXPECT_EQ(again.capacity(), capacity);
  EXPECT_EQ(pool.free_outputs(), 0u);
}

TEST(BufferPool, DoesNotKeepAnOutputStringThatGrewPastTheStandardSize) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  std::string big(kOutput * 2, 'x');
  pool.put_output(big);
  EXPECT_EQ(pool.free_outputs(), 0u);
  EXPECT_TRUE(big.empty());
  EXPECT_LT(big.capacity(), kOutput);  // its memory went back, not kept by the caller either
}

TEST(BufferPool, KeepsAtMostMaxFreeOutputStrings) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  for (int i = 0; i < 5; ++i) {
    std::string s(512, 'o');
    pool.put_output(s);
  }
  EXPECT_EQ(pool.free_outputs(), kMaxFree);
}

}  // namespace
}  // namespace hs
