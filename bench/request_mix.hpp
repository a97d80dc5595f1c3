// A table of requests read from a file, for the instruction counter's --mix: the browser heads
// of the load benchmark (bench/load/scenarios/browser_heads.txt), so that callgrind counts the
// same traffic wrk sends there.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

// The requests of `path`: heads written with LF line ends, a blank line after each, returned
// in HTTP's CRLF form. Empty when the file cannot be read.
inline std::vector<std::string> load_request_mix(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> heads;
  std::string line, head;
  auto end_head = [&] {
    if (!head.empty()) heads.push_back(head + "\r\n");
    head.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      end_head();
    } else {
      head += line + "\r\n";
    }
  }
  end_head();
  return heads;
}

}  // namespace bench
