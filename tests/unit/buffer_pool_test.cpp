#include "buffer_pool.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

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

TEST(BufferPool, DoesNotKeepAReadBufferThatGrew) {
  BufferPool pool(kRead, kOutput, kMaxFree);
  auto b = pool.get_read();
  b->data = std::make_unique<char[]>(kRead * 4);
  b->capacity = kRead * 4;
  pool.put_read(std::move(b));
  EXPECT_EQ(pool.free_reads(), 0u);
  EXPECT_EQ(pool.get_read()->capacity, kRead);  // a fresh standard-size one instead
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
