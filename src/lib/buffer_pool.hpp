// BufferPool: the per-reactor store of read buffers and output strings.
//
// A connection holds buffers only while it has a request or a response in flight and gives
// them back when it goes idle, so an idle keep-alive connection costs a few hundred bytes and
// a warm server serves requests without allocating. The pool keeps at most `max_free` buffers
// of each kind and never keeps one that grew past the standard size (a one-off large request
// or response gives its memory back to the system).
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

  BufferPool(size_t read_capacity, size_t output_capacity, size_t max_free)
      : read_capacity_(read_capacity), output_capacity_(output_capacity), max_free_(max_free) {
    free_reads_.reserve(max_free);
    free_outputs_.reserve(max_free);
  }

  size_t read_capacity() const noexcept { return read_capacity_; }

  std::unique_ptr<ReadBuffer> get_read() {
    if (free_reads_.empty()) return std::make_unique<ReadBuffer>(read_capacity_);
    auto buffer = std::move(free_reads_.back());
    free_reads_.pop_back();
    return buffer;
  }

  void put_read(std::unique_ptr<ReadBuffer> buffer) noexcept {
    if (!buffer || buffer->capacity != read_capacity_ || free_reads_.size() >= max_free_) return;
    buffer->length = buffer->parsed = 0;
    buffer->reset_request();
    // The byte limit alone bounds the field count (over 1,600 fields fit in 8 KiB): a buffer
    // that held such a head gives the spans' memory back rather than keeping it pooled.
    if (buffer->headers.capacity() > kPooledHeaderFields)
      std::vector<HeaderSpan>().swap(buffer->headers);
    free_reads_.push_back(std::move(buffer));
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
  size_t free_outputs() const noexcept { return free_outputs_.size(); }

 private:
  size_t read_capacity_;
  size_t output_capacity_;
  size_t max_free_;
  std::vector<std::unique_ptr<ReadBuffer>> free_reads_;
  std::vector<std::string> free_outputs_;
};

}  // namespace hs
