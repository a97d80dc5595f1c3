// OwsTabs: HTAB read as the whitespace it is in the fields llhttp interprets itself.
//
// RFC 9110 section 5.6.3: optional whitespace (OWS) is SP or HTAB. llhttp 8 (Debian 12) takes
// only SP inside the values it reads for framing and persistence: "Content-Length:<TAB>5<TAB>"
// is an invalid length, "Transfer-Encoding: chunked<TAB>" is not chunked, and
// "Connection: keep-alive,<TAB>close" keeps the connection open. In those fields a tab can
// only be whitespace (their grammar is digits, or tokens separated by commas and OWS), so
// making every tab of their values a space changes nothing a client meant, and llhttp then
// reads them as any RFC 9112 reader would.
//
// The filter runs over a request head's bytes as they arrive, before llhttp sees them, and
// rewrites in place. It keeps only where in the head it stands, not a pointer, so the caller
// may move its buffer between calls. It stops at the empty line that ends the head: what
// follows (a body, the next request) is never touched. Other fields keep their tabs; the
// connection trims OWS around every value itself.
#pragma once

#include <cstdint>

namespace hs {

class OwsTabs {
 public:
  // A new head starts with the next byte fed (empty lines before its request line allowed).
  void reset() noexcept { state_ = State::before_request_line; }

  // [p, end): the head's next bytes, in order, each fed once.
  void feed(char* p, const char* end) noexcept;

 private:
  enum class State : uint8_t {
    before_request_line,  // CR and LF bytes llhttp skips
    request_line,
    line_start,  // a field line, or the CR of the empty line
    name,
    value,          // of a field llhttp leaves to us
    special_value,  // of a field llhttp interprets: tabs become spaces
    blank_line,     // after the empty line's CR
    done,
  };
  static constexpr uint8_t kLongestName = 17;  // "Transfer-Encoding"

  bool special_name() const noexcept;

  State state_ = State::done;
  uint8_t name_length_ = 0;  // kLongestName + 1: longer than any we look for
  char name_[kLongestName];  // lower case
};

}  // namespace hs
