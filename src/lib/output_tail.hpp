// OutputTail: a response body that is sent from where it lies, after the bytes of the output
// buffer that end with its head: a range of an open file (sendfile from the page cache) or a
// shared string in memory (written together with the head by one writev). Never copied into
// the output buffer. Requests pipelined behind it wait until it is out, so it is always the
// last thing of a connection's output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <httpserver/http.hpp>

namespace hs {

struct OutputTail {
  std::shared_ptr<const OpenFile> file;       // set: sendfile from `offset`
  std::shared_ptr<const std::string> memory;  // set: bytes of *memory from `offset`
  uint64_t offset = 0;
  uint64_t left = 0;  // bytes still to send

  void clear() noexcept {
    file.reset();
    memory.reset();
    offset = left = 0;
  }
};

}  // namespace hs
