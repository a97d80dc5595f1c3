// ReadBuffer: the bytes read from one connection, and the spans of the request being parsed
// from them (offsets, so that the buffer may be compacted or grown between two reads). Filled
// by the transport, parsed by the RequestCodec, lent, enlarged and taken back by the
// BufferPool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace hs {

// Offsets rather than pointers: a buffer may be compacted or grown between two reads, and
// every span into it is then shifted by the same amount.
struct Span {
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t end() const noexcept { return offset + length; }
};

struct HeaderSpan {
  Span name;
  Span value;  // without the optional whitespace around it
};

// The bytes read from one connection and the spans of the request being parsed from them.
struct ReadBuffer {
  explicit ReadBuffer(size_t capacity)
      : data(std::make_unique<char[]>(capacity)), capacity(capacity) {}

  std::unique_ptr<char[]> data;
  size_t capacity;
  size_t length = 0;  // bytes held: [0, length)
  size_t parsed = 0;  // bytes given to the parser: [0, parsed)

  // The request in progress. The body is one run of the buffer: a chunked body is decoded
  // in place, right after the head.
  Span method, target, body;
  uint32_t line_start = 0;  // where the parser began the request (empty lines included)
  uint32_t head_start = 0, head_end = 0;
  std::vector<HeaderSpan> headers;

  void reset_request() noexcept {
    method = target = body = Span{};
    head_start = head_end = 0;
    headers.clear();
  }
};

}  // namespace hs
