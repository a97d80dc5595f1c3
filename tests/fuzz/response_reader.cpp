#include "response_reader.hpp"

#include <httpserver/http.hpp>

#include "fuzz_report.hpp"

namespace fuzz {

using hs::iequals;

std::optional<std::string_view> Parsed::field(std::string_view name) const {
  std::optional<std::string_view> found;
  for (const auto& [n, v] : fields) {
    if (!iequals(n, name)) continue;
    require(!found.has_value(), "response repeats a field: " + std::string(name), raw);
    found = v;
  }
  return found;
}

namespace {

bool is_imf_fixdate(std::string_view d) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (d.size() != 29) return false;
  static constexpr std::string_view kPattern = "Aaa, 00 Aaa 0000 00:00:00 GMT";
  for (size_t i = 0; i < d.size(); ++i) {
    char p = kPattern[i], c = d[i];
    if (p == '0' && !(c >= '0' && c <= '9')) return false;
    if (p == 'A' && !(c >= 'A' && c <= 'Z')) return false;
    if (p == 'a' && !(c >= 'a' && c <= 'z')) return false;
    if (p != '0' && p != 'A' && p != 'a' && p != c) return false;
  }
  return true;
}

// A chunked body as the server writes it: lowercase hex sizes, no extensions, no empty chunk
// but the last, no trailer. Returns the bytes it took.
size_t read_chunks(std::string_view rest, std::string& body) {
  size_t at = 0;
  for (;;) {
    size_t end = rest.find("\r\n", at);
    require(end != std::string_view::npos, "output ends inside a chunk-size line", rest);
    std::string_view line = rest.substr(at, end - at);
    require(!line.empty() && line.size() <= 8, "bad chunk-size line", rest);
    size_t size = 0;
    for (char c : line) {
      bool digit = c >= '0' && c <= '9', hex = c >= 'a' && c <= 'f';
      require(digit || hex, "chunk size not in lowercase hex", rest);
      size = size * 16 + static_cast<size_t>(digit ? c - '0' : c - 'a' + 10);
    }
    require(line.size() == 1 || line[0] != '0', "chunk size with a leading zero", rest);
    at = end + 2;
    if (size == 0) {
      require(rest.substr(at, 2) == "\r\n", "the last chunk is not followed by CRLF", rest);
      return at + 2;
    }
    require(rest.size() - at >= size + 2, "output ends inside a chunk", rest);
    require(rest.substr(at + size, 2) == "\r\n", "chunk data not followed by CRLF", rest);
    body.append(rest.substr(at, size));
    at += size + 2;
  }
}

}  // namespace

Parsed parse_response(std::string_view out, size_t& pos, const std::vector<Seen>& seen,
                      size_t next) {
  Parsed p;
  std::string_view rest = out.substr(pos);
  if (rest.substr(0, k100Continue.size()) == k100Continue) {
    p.status = 100;
    p.raw = rest.substr(0, k100Continue.size());
    pos += k100Continue.size();
    return p;
  }
  auto line_end = rest.find("\r\n");
  require(line_end != std::string_view::npos, "response without a complete status line", rest);
  std::string_view line = rest.substr(0, line_end);
  require(line.size() > 13 && line.substr(0, 9) == "HTTP/1.1 " && line[12] == ' ',
          "malformed status line", rest);
  std::string_view code = line.substr(9, 3);
  require(all_digits(code) && code[0] >= '1' && code[0] <= '5', "bad status code", rest);
  p.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  require(line.substr(13) == hs::status_text(p.status), "reason phrase is not the status's", rest);

  size_t at = line_end + 2;
  for (;;) {
    auto end = rest.find("\r\n", at);
    require(end != std::string_view::npos, "header section never ends", rest);
    if (end == at) {
      at += 2;
      break;
    }
    std::string_view field = rest.substr(at, end - at);
    auto colon = field.find(": ");
    require(colon != std::string_view::npos && colon > 0, "field line without \": \"", rest);
    std::string_view name = field.substr(0, colon), value = field.substr(colon + 2);
    for (char c : name) require(is_tchar(c), "response field name with a non-token byte", rest);
    for (char c : value)
      require(c != '\r' && c != '\n' && c != '\0', "response field value with CR, LF or NUL", rest);
    p.fields.emplace_back(name, value);
    at = end + 2;
  }
  p.raw = rest.substr(0, at);

  // Which handler call this answers, if it says; else perhaps the next one's deferred
  // response, answered by the server.
  const Seen* s = nullptr;
  if (auto seq = p.field("X-Seq")) {
    require(all_digits(*seq) && seq->size() < 9, "bad X-Seq", p.raw);
    size_t index = std::stoul(std::string(*seq));
    require(index < seen.size(), "X-Seq of a handler call that never happened", p.raw);
    s = &seen[index];
  }
  const Seen* owner = s;
  if (!owner && next < seen.size() &&
      ((p.status == 500 && (seen[next].choice.deferral == Deferral::drop_now ||
                            seen[next].choice.deferral == Deferral::drop_later)) ||
       (p.status == 504 && seen[next].choice.deferral == Deferral::time_out)))
    owner = &seen[next];
  bool head = owner && owner->method == "HEAD";
  bool takes_101 = s && s->choice.take == Taking::upgrade101;

  require(p.status >= 200 || (p.status == 101 && takes_101),
          "a 1xx other than the bare 100 Continue and a take-over's 101", rest);
  auto date = p.field("Date");
  require(date && is_imf_fixdate(*date), "final response without a valid Date", p.raw);
  auto server = p.field("Server");
  require(server && *server == kServerName, "final response without our Server field", p.raw);
  auto connection = p.field("Connection");
  require(!connection || *connection == "close" || *connection == "keep-alive" ||
              (*connection == "Upgrade" && p.status == 101),
          "response with a Connection value of the handler's", p.raw);
  require(p.status != 101 || (connection && *connection == "Upgrade"),
          "a 101 without \"Connection: Upgrade\"", p.raw);

  bool streamed = s && s->choice.streams;
  bool bodiless_status = p.status < 200 || p.status == 204 || p.status == 304;
  auto length = p.field("Content-Length");
  auto encoding = p.field("Transfer-Encoding");
  p.chunked = streamed && s->minor >= 1 && !bodiless_status;
  if (p.chunked) {
    require(encoding && *encoding == "chunked", "a stream to HTTP/1.1 is not chunked", p.raw);
  } else {
    require(!encoding, "response with Transfer-Encoding", p.raw);
  }
  size_t body_bytes = 0;
  if (bodiless_status || streamed) {
    require(!length, "a 1xx/204/304 or a streamed response with Content-Length", p.raw);
    if (streamed && s->minor == 0)
      require(p.closes(), "a stream to HTTP/1.0 does not close", p.raw);
  } else {
    require(length && all_digits(*length) && length->size() < 9,
            "final response without a valid Content-Length", p.raw);
    body_bytes = std::stoul(std::string(*length));
  }
  if (head && length && s) {
    // HEAD gets the Content-Length GET would have had.
    require(std::stoul(std::string(*length)) == s->answer.size(),
            "HEAD response's Content-Length is not the GET body's", p.raw);
  }
  if (head || bodiless_status) {
    body_bytes = 0;
  } else if (p.chunked) {
    body_bytes = read_chunks(rest.substr(at), p.body);
  } else if (streamed) {
    body_bytes = rest.size() - at;  // until the connection closes
  }
  require(rest.size() - at >= body_bytes, "output ends inside a response body", rest);
  if (!p.chunked) p.body.assign(rest.substr(at, body_bytes));
  p.raw = rest.substr(0, at + body_bytes);
  pos += at + body_bytes;
  return p;
}

std::string without_date(const Parsed& p, bool connection_too) {
  std::string s = std::to_string(p.status) + "\n";
  for (const auto& [n, v] : p.fields) {
    if (iequals(n, "Date") || (!connection_too && iequals(n, "Connection"))) continue;
    s += n + ": " + v + "\n";
  }
  return s + "\n" + p.body;
}

}  // namespace fuzz
