// Reads what an Exchange wrote back as HTTP/1.1 responses, checking their form on the way:
// "HTTP/1.1 NNN Reason" with the registered reason, token field names, CRLF line ends, a blank
// line, then the body as its framing says: Content-Length bytes; chunks (streamed, HTTP/1.1);
// or everything to the end (streamed, HTTP/1.0, which closes); none for HEAD, 1xx, 204, 304.
// 100 Continue is bare; the only other 1xx is the 101 of a take-over. Every final response has
// one Date (IMF-fixdate) and one Server; Content-Length unless 1xx/204/304 or streamed;
// Transfer-Encoding only when streamed to HTTP/1.1 (and then exactly "chunked").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_handler.hpp"

namespace fuzz {

inline constexpr std::string_view kServerName = "fuzz";
inline constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

struct Parsed {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // in order
  std::string body;                                         // decoded: chunk framing removed
  std::string_view raw;                                     // as written, into the output
  bool chunked = false;
  long answers = -1;  // the handler call it answers (set by the checks), -1: none

  // The named field's value; a repeated field is a violation.
  std::optional<std::string_view> field(std::string_view name) const;
  bool closes() const {
    auto c = field("Connection");
    return c && *c == "close";
  }
};

// Parses the response that starts at `pos` in `out` and advances `pos` past it. `seen` says
// which handler call an X-Seq response answers (its method and how it was answered decide its
// framing); `next` is the handler call the next handler response answers (a deferred one that
// the server answers itself, 500 or 504, carries no X-Seq).
Parsed parse_response(std::string_view out, size_t& pos, const std::vector<Seen>& seen,
                      size_t next);

// A response without its Date value, with its decoded body: what two runs must agree on.
std::string without_date(const Parsed& p, bool connection_too = true);

}  // namespace fuzz
