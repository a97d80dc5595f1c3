// The request head nearly every client sends, parsed in one strict pass.
//
// llhttp and the checks RFC 9112 asks of a server on top of it (RequestCodec::check_head) cost
// far more than one pass for a short GET: a callback per piece, then a second walk over
// the head. Most requests use a small corner of HTTP/1.1:
//
//   GET, HEAD, POST or PUT, SP, an origin-form target of plain URL bytes, SP, HTTP/1.0 or
//   HTTP/1.1, CRLF, fields "token: value CRLF" with printable ASCII values, none of
//   Transfer-Encoding, Expect, Upgrade or Proxy-Connection, at most one Connection saying
//   exactly "close" or "keep-alive", for POST and PUT at most one Content-Length of 1 to 15
//   digits and nothing else (none for GET and HEAD), the Host fields HTTP/1.x requires with a
//   valid value, CRLF, and the whole head in the buffer.
//
// parse_common_head() accepts exactly that corner and declines everything else: every other
// method, every chunked body, every head still arriving, every malformed or oversized head. A
// declined head goes through llhttp and check_head as if this parser did not exist, so it has no
// error path of its own. What it accepts must leave the ReadBuffer as llhttp's callbacks would
// (spans of the method, target and fields, a field value's without the whitespace around it)
// with the facts check_head would have taken: the fuzzer feeds every input with the parser on
// and off and compares the responses.
//
// Like picohttpparser: no allocation (the field spans go into the buffer's own vector, whose
// capacity the pool keeps), results point into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "buffer_pool.hpp"

namespace hs {

struct CommonHead {
  enum class Method : uint8_t { get, head, post, put };
  Method method = Method::get;
  uint8_t minor = 1;        // HTTP/1.minor
  bool keep_alive = false;  // as llhttp_should_keep_alive() would say
  // POST and PUT: the Content-Length (0 without one). The body is not part of the head: it
  // starts at b.head_end, and may not have arrived yet.
  uint64_t content_length = 0;
};

// The last Host value found valid. A client sends the same Host with every request, so the
// next one is usually these bytes again: one comparison instead of a table lookup per byte.
// Only ever holds bytes that all passed the check. One per server (ConnectionShared).
struct HostMemo {
  uint8_t length = 0;
  char bytes[63];
};

// Parses the head that starts at b.parsed. True when it is a common head, complete in
// [b.parsed, b.length), whose wire size plus field count is at most max_bytes (so no limit on
// the target or the fields can apply): then b.method, b.target, b.headers, b.head_start,
// b.head_end and b.body (empty, at b.head_end) describe it, b.head_end is where its body (of
// head.content_length bytes) or else the next request starts.
// False otherwise; b's request spans are then cleared. `memo` is read and updated.
bool parse_common_head(ReadBuffer& b, size_t max_bytes, HostMemo& memo, CommonHead& head) noexcept;

}  // namespace hs
