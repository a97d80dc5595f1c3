// ChunkedDecoder: a request body in the chunked transfer coding (RFC 9112 section 7.1),
// decoded in place and held to the grammar exactly.
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//
// Why not llhttp's: Debian 12's llhttp (8.1) lets any two bytes end chunk data, takes a bare
// CR inside a size line, and refuses several extensions on one chunk. A front end that reads
// the framing strictly and a server that reads it loosely disagree on where a request ends,
// which is how request smuggling starts. So the connection parses the head with llhttp and
// the body with this.
//
// In place: chunk data moves down over the framing before it, so the decoded body is one run
// of the read buffer and nothing is copied elsewhere. The decoder keeps no pointer between
// calls (the caller may compact or grow its buffer); it keeps only where in the grammar it
// stands and what it has counted.
//
// Limits, each answered as soon as it is passed, without waiting for the end of the line:
// - the decoded body: `max_body` (413);
// - one chunk-size line, size, extensions and CRLF: `max_line` (413). A line is scanned, not
//   held, so an endless extension costs no memory; the bound makes it cost no time either
//   (Node's CVE-2024-22019: a megabyte of extension read before any answer);
// - the extensions of one message, all lines together: `max_extensions` (413);
// - all framing (size lines, extensions, the CRLFs): `max_body` plus 4 KiB (413), so a
//   stream of one-byte chunks is bounded too;
// - the trailer section: `max_trailer` bytes (431).
// A size of more than 16 significant hex digits is no number at all (400).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hs {

class ChunkedDecoder {
 public:
  enum class Result : uint8_t {
    more,                  // all input consumed; the body goes on
    done,                  // the body and its trailer section ended; `in` is just past them
    bad,                   // not the chunked coding (400); `in` is at the offending byte
    body_too_large,        // 413: the body, or all of its framing
    line_too_long,         // 413: one chunk-size line
    extensions_too_large,  // 413: the chunk extensions of the message
    trailers_too_large,    // 431
  };

  static constexpr size_t kFramingAllowance = 4096;

  struct Limits {
    size_t max_body = 0;
    size_t max_trailer = 0;
    size_t max_line = 0;
    size_t max_extensions = 0;
  };

  // Starts a new body.
  void start(const Limits& limits) noexcept;

  // Decodes data[in, end). Chunk data moves to data[out, ...); `in` and `out` advance, and
  // out <= in holds throughout.
  Result decode(char* data, size_t& in, size_t end, size_t& out) noexcept;

  // Decoded bytes so far.
  size_t body_bytes() const noexcept { return body_; }

 private:
  enum class State : uint8_t {
    size_first,  // the first hex digit of a size
    size,        // more hex digits, BWS, ';' or CR
    before_ext,  // BWS seen after the size: ';' must follow
    ext,         // an extension, up to the CR
    size_lf,     // the LF ending a size line
    data,        // chunk data
    data_cr,     // the CRLF after chunk data
    data_lf,
    trailer_start,  // a trailer field's first byte, or the CR of the final CRLF
    trailer_name,
    trailer_value,
    trailer_lf,
    end_lf,  // the LF of the final CRLF
  };

  Result framing_byte() noexcept;

  State state_ = State::size_first;
  uint64_t size_ = 0;      // the chunk being read: its size, then what is left of its data
  unsigned digits_ = 0;    // significant hex digits of the size so far
  size_t body_ = 0;        // decoded bytes
  size_t framing_ = 0;     // bytes of size lines and CRLFs
  size_t trailer_ = 0;     // bytes of the trailer section
  size_t line_ = 0;        // bytes of the chunk-size line being read
  size_t extensions_ = 0;  // bytes of chunk extensions in the whole message
  Limits limits_;
};

}  // namespace hs
