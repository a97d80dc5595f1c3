// A strict RFC 9112 reader of what a client sent, for the connection fuzzer to compare with.
//
// It finds the requests, in order, up to the first byte it would refuse (or the end of the
// input). It is lenient where the connection may be stricter (any token method, any target
// without CTL or SP, any version digits, no limits), and strict where framing is decided:
// every line ends in CRLF and holds no other CR or LF, field names are tokens, no obs-fold,
// Transfer-Encoding is "chunked" alone and excludes Content-Length, one Content-Length of
// digits, chunk sizes are hex digits followed by nothing or by extensions, chunk data ends
// in CRLF. CONNECT has no body (llhttp's reading, and the connection answers it 501 and goes
// on).
//
// The handler may only ever see requests this reader also finds, with the same method,
// target and body: a request it refuses that reaches the handler, or a body it decodes
// differently, is how request smuggling starts. A handler that runs at the head (a body read
// as it arrives) may see the head of a request whose body then fails or is cut short: the
// reader gives that one too, as incomplete, with the body as far as it could be decoded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

struct StrictRequest {
  std::string method, target;
  // The decoded body; when !complete, as far as it goes (the data of a chunk whose framing
  // then fails included, since a body read as it arrives may have been given it).
  std::string body;
  bool chunked = false;
  bool complete = true;  // false: the head is sound, the body fails or is cut short
  size_t head_end = 0;   // where in the input the head ends, and the whole request
  size_t end = 0;
};

// The requests in `input`; only the last may be incomplete.
std::vector<StrictRequest> read_strict(std::string_view input);

}  // namespace fuzz
