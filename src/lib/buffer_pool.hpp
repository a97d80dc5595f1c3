// BufferPool: the per-reactor store of read buffers and output strings.
//
// A connection holds buffers only while it has a request or a response in flight and gives
// them back when it goes idle, so an idle keep-alive connection costs a few hundred bytes and
// a warm server serves requests without allocating. The pool keeps at most `max_free` buffers
// of each kind at the standard size, and never keeps an output string that grew past it.
//
// A request larger than the standard read buffer (a head, or a body read whole or in large
// pieces) trades its buffer for a larger one with enlarge(). Large read buffers given back are
// kept too, up to kMaxLargeFree of them, kMaxLargeFreeBytes in all, kMaxLargeReadBytes each:
// a server taking
// uploads on keep-alive connections reuses them instead of allocating and growing a buffer
// per request, and the memory this holds is bounded per reactor, not per connection, so an
// idle connection costs what it did. A larger buffer (a one-off huge request) goes back to
// the system.
//
// Threads: the reactor's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "read_buffer.hpp"

namespace hs {

class BufferPool {
 public:
  static constexpr size_t kPooledHeaderFields = 128;
  // Free large read buffers kept: how many, their bytes in all, the largest one kept. A
  // buffer for a 64 KiB body fits a dozen times; a single huge upload cannot take the budget.
  static constexpr size_t kMaxLargeFree = 16;
  static constexpr size_t kMaxLargeFreeBytes = 1024 * 1024;
  static constexpr size_t kMaxLargeReadBytes = kMaxLargeFreeBytes / 4;

  BufferPool(size_t read_capacity, size_t output_capacity, size_t max_free)
      : read_capacity_(read_capacity), output_capacity_(output_capacity), max_free_(max_free) {
    free_reads_.reserve(max_free);
    free_outputs_.reserve(max_free);
    free_large_.reserve(kMaxLargeFree);
  }

  size_t read_capacity() const noexcept { return read_capacity_; }

  std::unique_ptr<ReadBuffer> get_read() {
    if (free_reads_.empty()) return std::make_unique<ReadBuffer>(read_capacity_);
    auto buffer = std::move(free_reads_.back());
    free_reads_.pop_back();
    return buffer;
  }

  void put_read(std::unique_ptr<ReadBuffer> buffer) noexcept {
    if (!buffer) return;
    bool standard = buffer->capacity == read_capacity_;
    if (standard ? free_reads_.size() >= max_free_ : !keeps_large(buffer->capacity)) return;
    buffer->length = buffer->parsed = 0;
    buffer->reset_request();
    // The byte limit alone bounds the field count (over 1,600 fields fit in 8 KiB): a buffer
    // that held such a head gives the spans' memory back rather than keeping it pooled.
    if (buffer->headers.capacity() > kPooledHeaderFields)
      std::vector<HeaderSpan>().swap(buffer->headers);
    if (!standard) large_free_bytes_ += buffer->capacity;
    (standard ? free_reads_ : free_large_).push_back(std::move(buffer));  // reserved
  }

  // Gives `b` a buffer of `min_capacity` bytes or more (up to `max_capacity` when one is kept
  // free, exactly `min_capacity` when one is allocated), holding the same bytes; its old one
  // comes back to the pool. The smallest free large buffer that fits is taken, so that a
  // larger one stays for a request that needs it. False when memory is short (`b` is as it
  // was).
  bool enlarge(ReadBuffer& b, size_t min_capacity, size_t max_capacity) noexcept {
    size_t best = free_large_.size();
    for (size_t i = 0; i < free_large_.size(); ++i) {
      size_t c = free_large_[i]->capacity;
      if (c >= min_capacity && c <= max_capacity &&
          (best == free_large_.size() || c < free_large_[best]->capacity))
        best = i;
    }
    if (best != free_large_.size()) {
      std::unique_ptr<ReadBuffer> spare = std::move(free_large_[best]);
      free_large_[best] = std::move(free_large_.back());
      free_large_.pop_back();
      large_free_bytes_ -= spare->capacity;
      std::memcpy(spare->data.get(), b.data.get(), b.length);
      std::swap(spare->data, b.data);
      std::swap(spare->capacity, b.capacity);
      put_read(std::move(spare));  // with b's old bytes, now free
      return true;
    }
    auto bigger = std::unique_ptr<char[]>(new (std::nothrow) char[min_capacity]);
    if (!bigger) return false;
    std::memcpy(bigger.get(), b.data.get(), b.length);
    b.data = std::move(bigger);
    b.capacity = min_capacity;
    return true;
  }

  // An empty string with capacity (none allocated until it is first used).
  std::string get_output() noexcept {
    if (free_outputs_.empty()) return {};
    std::string out = std::move(free_outputs_.back());
    free_outputs_.pop_back();
    return out;
  }

  void put_output(std::string& out) noexcept {
    if (out.capacity() > output_capacity_ || free_outputs_.size() >= max_free_ ||
        out.capacity() < 64) {
      std::string().swap(out);
      return;
    }
    out.clear();
    free_outputs_.push_back(std::move(out));
    out = std::string();
  }

  size_t free_reads() const noexcept { return free_reads_.size(); }
  size_t free_large_reads() const noexcept { return free_large_.size(); }
  size_t free_outputs() const noexcept { return free_outputs_.size(); }

 private:
  bool keeps_large(size_t capacity) const noexcept {
    return capacity > read_capacity_ && capacity <= kMaxLargeReadBytes &&
           free_large_.size() < kMaxLargeFree && large_free_bytes_ + capacity <= kMaxLargeFreeBytes;
  }

  size_t read_capacity_;
  size_t output_capacity_;
  size_t max_free_;
  std::vector<std::unique_ptr<ReadBuffer>> free_reads_;
  std::vector<std::unique_ptr<ReadBuffer>> free_large_;  // unordered
  size_t large_free_bytes_ = 0;
  std::vector<std::string> free_outputs_;
};

}  // namespace hs
