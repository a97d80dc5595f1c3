// libFuzzer target over a connection's input path: arbitrary bytes, delivered in arbitrary
// splits, through the request codec and the responder a Connection runs (driven by
// tests/support/codec_driver.hpp: no socket, no syscalls), then checks of what came out.
//
// Input format: byte 0 is the plan, the rest is what the client sends. So a seed file in
// corpus/ is one plan byte followed by requests exactly as a client writes them.
//   plan & 3         largest piece handed to receive(): 1, 7, 64 or 700 bytes (piece sizes are
//                    drawn from a small PRNG seeded with the plan and the input length)
//   (plan >> 2) & 7  that PRNG's seed
//   plan & 0xc0      both set: the server is draining (every response closes)
// The input always ends with the client's EOF. Deadlines (the 408 of an expired header
// timeout) need a socket and a clock: tests/integration/deadlines_test.cpp covers them.
//
// The same bytes are also fed unsplit (as one read), and both runs must produce the same
// responses (Date values and 100 Continue interim responses aside: whether the client is
// asked to continue depends on whether the body was already there) and the same handler calls.
// The unsplit run is made twice, with the one-pass parser for common heads (common_head.hpp)
// and without it (llhttp parses every head): the handler calls, fields included, and the
// responses must be identical, errors too (that parser declines what it does not accept).
// A third unsplit run stops at every head with a body (CodecRules::head_first, as with a
// ServerOptions::stream_body) and then reads the body whole: identical again.
//
// Checked on every run, beyond "no crash, no sanitizer report" (a violation aborts with a
// message, which libFuzzer saves as a crash):
//   - output() is a sequence of well-formed HTTP/1.1 responses: "HTTP/1.1 NNN Reason" with
//     the registered reason, token field names, CRLF line ends, a blank line, then exactly
//     Content-Length body bytes (none for HEAD, 1xx, 204, 304); 100 Continue is bare;
//   - every final response has one Date (IMF-fixdate), one Server, and one Content-Length
//     unless 1xx/204/304, where it has none; never Transfer-Encoding;
//   - every handler call gets exactly one final response, in order, carrying what the handler
//     set (X-Seq = call index, the echoed target and body, its status); a throwing handler
//     gets 500 and "Connection: close"; every other final response is the connection's own
//     (CONNECT's 501, or an error that closes), and the stats count them all;
//   - after a response with "Connection: close" nothing more is written and the handler is
//     never called again; at most one 100 Continue per request;
//   - the Request the handler sees keeps the limits and RFC 9112's rules (one Host in 1.1, a
//     Content-Length body of that length, token field names, no CR/LF/NUL in values, trimmed
//     values).
// Bugs already found and not yet fixed in src/ are listed in known_bugs next to this file;
// CONNECTION_FUZZ_KNOWN_BUGS relaxes their checks for a long run (see known_bug()).
// CONNECTION_FUZZ_VERBOSE=1 prints each input's unsplit output.
#include <fcntl.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httpserver/http.hpp>
#include <httpserver/log.hpp>
#include <httpserver/reactor.hpp>

#include "exchange_driver.hpp"

namespace {

using hs::iequals;

constexpr std::string_view kServerName = "fuzz";
constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

hs::Limits fuzz_limits() {
  hs::Limits l;
  l.max_header_bytes = 512;
  l.max_target_bytes = 128;
  l.max_body_bytes = 256;
  l.max_chunk_line_bytes = 40;
  l.max_chunk_extension_bytes = 100;
  l.read_buffer_bytes = 256;
  return l;
}

// --- Reporting ----------------------------------------------------------------------------

void print_escaped(std::string_view bytes) {
  constexpr size_t kMax = 600;
  for (size_t i = 0; i < bytes.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r')
      std::fputs("\\r", stderr);
    else if (c == '\n')
      std::fputs("\\n\n", stderr);
    else if (c < 0x20 || c >= 0x7f || c == '\\')
      std::fprintf(stderr, "\\x%02x", c);
    else
      std::fputc(c, stderr);
  }
  if (bytes.size() > kMax) std::fprintf(stderr, "... (%zu bytes)", bytes.size());
  std::fputc('\n', stderr);
}

[[noreturn]] void violation(const std::string& what, std::string_view context = {}) {
  std::fprintf(stderr, "\nINVARIANT VIOLATION: %s\n", what.c_str());
  if (!context.empty()) {
    std::fputs("--- context ---\n", stderr);
    print_escaped(context);
  }
  std::abort();
}

void require(bool ok, const std::string& what, std::string_view context = {}) {
  if (!ok) violation(what, context);
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

size_t g_tolerated_known_bug = 0;  // inputs on which a known bug's check was relaxed

// Known bugs in src/, by name, that CONNECTION_FUZZ_KNOWN_BUGS (comma-separated; fuzz.sh sets
// it from tests/fuzz/known_bugs) lets pass, so that a long run can look for new ones. Each
// name marks the one check it relaxes (`if (known_bug("name")) { ++g_tolerated_known_bug;
// ... }` beside it). Without the variable every check is strict. None is listed now: the six
// bugs found first are fixed, and their relaxations are gone with them.
[[maybe_unused]] bool known_bug(std::string_view name) {
  static const std::string list = [] {
    const char* v = std::getenv("CONNECTION_FUZZ_KNOWN_BUGS");
    return "," + std::string(v ? v : "") + ",";
  }();
  return contains(list, "," + std::string(name) + ",");
}

// --- The handler --------------------------------------------------------------------------

// What the handler saw and did, per call.
struct Seen {
  std::string method, target, body, host;
  std::string fields;  // every field as the handler saw it: "name: value\n" in order
  bool keep_alive = false;
  int minor = 1;
  int status = 200;
  bool threw = false;
  bool closes = false;  // the response must say "Connection: close"
  bool keep_alive_10 = false;
};

struct Run {
  std::vector<Seen> seen;
  bool draining = false;
  bool closing = false;  // a response that closes has been produced: no handler call may follow
};

Run* g_run = nullptr;

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The Request's contract, as the connection promises it to every handler.
void check_request(const hs::Request& q, const hs::Limits& limits) {
  std::string_view ctx = q.target();
  require(!q.method().empty(), "handler got an empty method", ctx);
  require(q.method() != "CONNECT", "handler got CONNECT (the connection answers it 501)", ctx);
  require(!q.target().empty(), "handler got an empty target", ctx);
  require(q.target().size() <= limits.max_target_bytes, "handler got a target past the limit", ctx);
  require(q.body().size() <= limits.max_body_bytes, "handler got a body past the limit", ctx);
  require(q.version_major() == 1 && (q.version_minor() == 0 || q.version_minor() == 1),
          "handler got a version other than 1.0/1.1", ctx);
  require(q.path().size() <= q.target().size(), "path longer than the target", ctx);

  size_t head_bytes = 0;
  int hosts = 0, lengths = 0, encodings = 0;
  std::string_view content_length;
  for (const hs::Header& h : q.headers()) {
    require(!h.name.empty(), "empty field name", ctx);
    for (char c : h.name) require(is_tchar(c), "field name with a non-token byte", h.name);
    for (char c : h.value)
      require(c != '\r' && c != '\n' && c != '\0', "field value with CR, LF or NUL", h.value);
    if (!h.value.empty()) {
      require(h.value.front() != ' ' && h.value.front() != '\t' && h.value.back() != ' ' &&
                  h.value.back() != '\t',
              "field value not trimmed", h.value);
    }
    head_bytes += h.name.size() + h.value.size() + 4;
    if (iequals(h.name, "Host")) ++hosts;
    if (iequals(h.name, "Content-Length")) ++lengths, content_length = h.value;
    if (iequals(h.name, "Transfer-Encoding")) ++encodings;
  }
  require(head_bytes <= limits.max_header_bytes, "handler got a header section past the limit",
          ctx);
  require(hosts <= 1, "handler got more than one Host", ctx);
  if (q.version_minor() == 1)
    require(hosts == 1, "HTTP/1.1 request without Host reached the handler", ctx);
  require(!(lengths > 0 && encodings > 0),
          "Content-Length with Transfer-Encoding reached the handler", ctx);
  require(lengths <= 1, "duplicate Content-Length reached the handler", ctx);
  if (lengths == 1) {
    require(all_digits(content_length), "non-numeric Content-Length reached the handler",
            content_length);
    // Leading zeros are legal; compare the value, not the text.
    size_t value = 0;
    for (char c : content_length) {
      value = value * 10 + static_cast<size_t>(c - '0');
      if (value > (1u << 30)) break;
    }
    require(value == q.body().size(), "body length differs from Content-Length", ctx);
  }
  if (lengths == 0 && encodings == 0)
    require(q.body().empty(), "body without Content-Length or Transfer-Encoding", ctx);
}

// Echoes the target and the body, numbers its calls, and misbehaves on request: "/throw"
// throws std::runtime_error, "/panic" throws an int, "/close" asks to close, "/204" and
// "/304" answer without a body, "/404" a plain error, "/reserved" tries to set the fields the
// connection owns (they must be ignored).
void handle(const hs::Request& q, hs::Response& r, const hs::Limits& limits) {
  Run& run = *g_run;
  if (run.closing)
    violation("handler called after a response that closes the connection", q.target());
  check_request(q, limits);

  Seen s;
  s.method.assign(q.method());
  s.target.assign(q.target());
  s.body.assign(q.body());
  s.host.assign(q.header("Host"));
  for (const hs::Header& h : q.headers())
    s.fields.append(h.name).append(": ").append(h.value).append("\n");
  s.keep_alive = q.keep_alive();
  s.minor = q.version_minor();
  std::string_view target = q.target();
  size_t index = run.seen.size();

  if (contains(target, "/throw")) {
    s.threw = s.closes = true;
    s.status = 500;
    run.seen.push_back(std::move(s));
    run.closing = true;
    r.body.assign("half-written");  // must not leak out
    throw std::runtime_error("fuzz handler: " + std::string(target));
  }
  if (contains(target, "/panic")) {
    s.threw = s.closes = true;
    s.status = 500;
    run.seen.push_back(std::move(s));
    run.closing = true;
    throw 42;
  }

  r.status = 200;
  if (contains(target, "/204")) r.status = 204;
  if (contains(target, "/304")) r.status = 304;
  if (contains(target, "/404")) r.status = 404;
  s.status = r.status;
  r.set_header("Content-Type", "text/plain");
  r.set_header("X-Seq", std::to_string(index));
  r.set_header("X-Host", q.header("Host"));
  if (contains(target, "/reserved")) {
    r.set_header("Content-Length", "99999");
    r.set_header("Transfer-Encoding", "chunked");
    r.set_header("Date", "yesterday");
    r.set_header("Server", "impostor");
    r.set_header("Connection", "keep-alive");
  }
  bool asked_close = contains(target, "/close");
  if (asked_close) r.set_header("Connection", "close");
  r.body.assign(q.target());
  r.body.push_back('\n');
  r.body.append(q.body());

  s.closes = asked_close || !q.keep_alive() || run.draining;
  s.keep_alive_10 = q.keep_alive() && q.version_minor() == 0 && !s.closes;
  run.closing = s.closes;
  run.seen.push_back(std::move(s));
}

std::string expected_body(const Seen& s) { return s.target + "\n" + s.body; }

// --- Parsing what the connection wrote ----------------------------------------------------

struct Parsed {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // in order
  std::string body;
  std::string_view raw;

  std::optional<std::string_view> field(std::string_view name) const {
    std::optional<std::string_view> found;
    for (const auto& [n, v] : fields) {
      if (!iequals(n, name)) continue;
      require(!found.has_value(), "response repeats a field: " + std::string(name), raw);
      found = v;
    }
    return found;
  }
  bool closes() const {
    auto c = field("Connection");
    return c && *c == "close";
  }
};

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

// Parses the response starting at `pos` and advances it. `seen` tells which handler call an
// X-Seq response answers, so that a HEAD response is known to carry no body.
Parsed parse_response(std::string_view out, size_t& pos, const std::vector<Seen>& seen) {
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
  require(p.status >= 200, "a 1xx other than the bare 100 Continue", rest);

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

  auto date = p.field("Date");
  require(date && is_imf_fixdate(*date), "final response without a valid Date", p.raw);
  auto server = p.field("Server");
  require(server && *server == kServerName, "final response without our Server field", p.raw);
  require(!p.field("Transfer-Encoding"), "response with Transfer-Encoding", p.raw);
  auto connection = p.field("Connection");
  require(!connection || *connection == "close" || *connection == "keep-alive",
          "response with a Connection value of the handler's", p.raw);

  bool head = false;
  if (auto seq = p.field("X-Seq")) {
    require(all_digits(*seq) && seq->size() < 9, "bad X-Seq", p.raw);
    size_t index = std::stoul(std::string(*seq));
    require(index < seen.size(), "X-Seq of a handler call that never happened", p.raw);
    head = seen[index].method == "HEAD";
  }
  bool bodiless_status = p.status == 204 || p.status == 304;
  auto length = p.field("Content-Length");
  size_t body_bytes = 0;
  if (bodiless_status) {
    require(!length, "204/304 with Content-Length", p.raw);
  } else {
    require(length && all_digits(*length) && length->size() < 9,
            "final response without a valid Content-Length", p.raw);
    body_bytes = std::stoul(std::string(*length));
  }
  if (head || bodiless_status) body_bytes = 0;
  require(rest.size() - at >= body_bytes, "output ends inside a response body", rest);
  p.body.assign(rest.substr(at, body_bytes));
  if (head && length) {
    // HEAD gets the Content-Length GET would have had.
    auto seq = std::stoul(std::string(*p.field("X-Seq")));
    require(std::stoul(std::string(*length)) == expected_body(seen[seq]).size(),
            "HEAD response's Content-Length is not the GET body's", p.raw);
  }
  p.raw = rest.substr(0, at + body_bytes);
  pos += at + body_bytes;
  return p;
}

// --- A strict reader, to compare with ------------------------------------------------------

// What a strict RFC 9112 reader finds in the bytes a client sent: the requests, in order,
// up to the first byte it would refuse (or the end of the input). It is lenient where the
// connection may be stricter (any token method, any target without CTL or SP, any version
// digits, no limits), and strict where framing is decided: every line ends in CRLF and holds
// no other CR or LF, field names are tokens, no obs-fold, Transfer-Encoding is "chunked"
// alone and excludes Content-Length, one Content-Length of digits, chunk sizes are hex
// digits followed by nothing or by extensions, chunk data ends in CRLF. CONNECT has no body
// (llhttp's reading, and the connection answers it 501 and goes on).
//
// The handler may only ever see requests this reader also finds, with the same method,
// target and body: a request it refuses that reaches the handler, or a body it decodes
// differently, is how request smuggling starts.
struct StrictRequest {
  std::string method, target, body;
  bool chunked = false;
};

class StrictReader {
 public:
  explicit StrictReader(std::string_view in) : in_(in) {}

  std::vector<StrictRequest> read_all() {
    std::vector<StrictRequest> out;
    StrictRequest r;
    while (read_one(r)) out.push_back(std::move(r));
    return out;
  }

 private:
  static bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

  // The next line without its CRLF; false at the end of input or on a bare CR or LF.
  bool line(std::string_view& out) {
    size_t lf = in_.find('\n', at_);
    if (lf == std::string_view::npos || lf == at_ || in_[lf - 1] != '\r') return false;
    out = in_.substr(at_, lf - 1 - at_);
    if (out.find('\r') != std::string_view::npos) return false;
    at_ = lf + 1;
    return true;
  }

  static bool token(std::string_view t) {
    if (t.empty()) return false;
    for (char c : t)
      if (!is_tchar(c)) return false;
    return true;
  }

  // name ":" OWS value OWS, value without CTL but HTAB.
  static bool field(std::string_view l, std::string_view& name, std::string_view& value) {
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) return false;
    name = l.substr(0, colon);
    for (char c : name)
      if (!is_tchar(c)) return false;
    if (name.empty()) return false;
    value = l.substr(colon + 1);
    for (char c : value)
      if (is_ctl(static_cast<unsigned char>(c)) && c != '\t') return false;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return true;
  }

  // Field lines up to the empty line; calls `each` for every field.
  template <typename F>
  bool fields(F each) {
    std::string_view l, name, value;
    for (;;) {
      if (!line(l)) return false;
      if (l.empty()) return true;
      if (l.front() == ' ' || l.front() == '\t') return false;  // obs-fold
      if (!field(l, name, value)) return false;
      each(name, value);
    }
  }

  bool read_one(StrictRequest& r) {
    // RFC 9112 section 2.2: empty lines before a request-line are ignored. llhttp skips any
    // run of CR and LF bytes there, bare ones included; lenient, but nothing is framed by
    // them, so the reader does the same.
    while (at_ < in_.size() && (in_[at_] == '\r' || in_[at_] == '\n')) ++at_;
    std::string_view l;
    if (!line(l)) return false;
    size_t sp1 = l.find(' ');
    if (sp1 == std::string_view::npos) return false;
    size_t sp2 = l.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return false;
    std::string_view method = l.substr(0, sp1), target = l.substr(sp1 + 1, sp2 - sp1 - 1),
                     version = l.substr(sp2 + 1);
    if (!token(method) || target.empty()) return false;
    for (char c : target)
      if (is_ctl(static_cast<unsigned char>(c))) return false;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' ||
        version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
      return false;

    int lengths = 0, encodings = 0;
    std::string length, encoding;
    bool ok = fields([&](std::string_view name, std::string_view value) {
      if (iequals(name, "Content-Length")) ++lengths, length.assign(value);
      if (iequals(name, "Transfer-Encoding")) {
        ++encodings;
        if (!encoding.empty()) encoding += ",";
        encoding.append(value);
      }
    });
    if (!ok) return false;
    r.method.assign(method);
    r.target.assign(target);
    r.body.clear();
    r.chunked = false;
    if (method == "CONNECT") return true;
    if (encodings > 0) {
      // RFC 9112 section 6.1: in HTTP/1.0, framing by Transfer-Encoding is faulty.
      if (version == "HTTP/1.0") return false;
      if (lengths > 0 || !iequals(encoding, "chunked")) return false;
      r.chunked = true;
      if (chunked(r.body)) return true;
      return false;
    }
    if (lengths > 1) return false;
    if (lengths == 1) {
      if (!all_digits(length)) return false;
      size_t n = 0;
      for (char c : length) {  // leading zeros are fine; a huge value is refused
        n = n * 10 + static_cast<size_t>(c - '0');
        if (n > (1u << 30)) return false;
      }
      if (in_.size() - at_ < n) return false;
      r.body.assign(in_.substr(at_, n));
      at_ += n;
    }
    return true;
  }

  bool chunked(std::string& body) {
    std::string_view l;
    for (;;) {
      if (!line(l)) return false;
      size_t hex = 0;
      uint64_t size = 0;
      while (hex < l.size() && std::isxdigit(static_cast<unsigned char>(l[hex]))) {
        char c = l[hex];
        size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        if (size > (1u << 30)) return false;
        ++hex;
      }
      if (hex == 0) return false;
      std::string_view ext = l.substr(hex);
      while (!ext.empty() && (ext.front() == ' ' || ext.front() == '\t')) ext.remove_prefix(1);
      if (!ext.empty() && ext.front() != ';') return false;
      for (char c : ext)
        if (is_ctl(static_cast<unsigned char>(c)) && c != '\t') return false;
      if (size == 0) return fields([](std::string_view, std::string_view) {});
      if (in_.size() - at_ < size + 2 || in_.substr(at_ + size, 2) != "\r\n") return false;
      body.append(in_.substr(at_, size));
      at_ += size + 2;
    }
  }

  std::string_view in_;
  size_t at_ = 0;
};

// Every handler call must be one of the requests the strict reader finds, in order.
void check_against_strict_reader(const std::vector<Seen>& seen, std::string_view input) {
  if (seen.empty()) return;
  StrictReader reader(input);
  std::vector<StrictRequest> strict = reader.read_all();
  size_t next = 0;
  for (const Seen& s : seen) {
    while (next < strict.size() && strict[next].method == "CONNECT") ++next;
    if (next >= strict.size())
      violation(
          "the handler got a request that a strict RFC 9112 reader refuses "
          "(request " +
              std::to_string(next) + ", target " + s.target + ")",
          input);
    const StrictRequest& r = strict[next++];
    if (r.method != s.method || r.target != s.target || r.body != s.body) {
      std::fprintf(stderr, "strict reader: %s %s, body:\n", r.method.c_str(), r.target.c_str());
      print_escaped(r.body);
      std::fprintf(stderr, "handler saw: %s %s, body:\n", s.method.c_str(), s.target.c_str());
      print_escaped(s.body);
      violation("the handler saw a request that a strict RFC 9112 reader reads differently", input);
    }
  }
}

// --- Running one input --------------------------------------------------------------------

struct Outcome {
  std::vector<Parsed> finals;  // final responses, in order (their raw views point into output)
  std::vector<Seen> seen;
  std::string output;
  bool closed = false;
};

// Every check that needs only one run's output and handler calls.
void check_run(Outcome& o, const hs::ConnectionStats& before, const hs::ConnectionStats& after,
               bool draining) {
  std::string_view out = o.output;
  size_t pos = 0, next_seq = 0, connects = 0, errors = 0, throws = 0;
  bool closed_by_response = false, interim_pending = false;
  while (pos < out.size()) {
    require(!closed_by_response, "output after a response with \"Connection: close\"",
            out.substr(pos));
    Parsed p = parse_response(out, pos, o.seen);
    if (p.status == 100) {
      require(!interim_pending, "two 100 Continue for one request", out);
      interim_pending = true;
      continue;
    }
    interim_pending = false;
    bool closes = p.closes();
    if (auto seq = p.field("X-Seq")) {
      size_t index = std::stoul(std::string(*seq));
      require(index == next_seq, "handler responses out of order or repeated", out);
      const Seen& s = o.seen[index];
      require(!s.threw, "a throwing handler's response went out", p.raw);
      require(p.status == s.status, "status differs from the handler's", p.raw);
      if (s.method != "HEAD" && s.status != 204 && s.status != 304)
        require(p.body == expected_body(s), "body differs from the handler's", p.raw);
      require(closes == s.closes, "Connection: close differs from what the request asked", p.raw);
      auto keep_alive = p.field("Connection");
      require((keep_alive && *keep_alive == "keep-alive") == s.keep_alive_10,
              "HTTP/1.0 keep-alive not confirmed (or confirmed wrongly)", p.raw);
      auto host = p.field("X-Host");
      require(host && *host == s.host, "X-Host differs from the request's Host", p.raw);
      ++next_seq;
    } else if (p.status == 500) {
      require(next_seq < o.seen.size() && o.seen[next_seq].threw, "500 without a throwing handler",
              p.raw);
      require(closes && p.body == "500 Internal Server Error\n",
              "a throwing handler did not get 500 and close", p.raw);
      ++throws;
      ++next_seq;
    } else if (p.status == 501 && p.body == "501 Not Implemented\n" && !closes) {
      require(!draining, "a response that does not close while draining", p.raw);
      ++connects;  // CONNECT, answered by the connection itself
    } else {
      require(closes, "a response of the connection's own that does not close", p.raw);
      std::string want =
          std::to_string(p.status) + " " + std::string(hs::status_text(p.status)) + "\n";
      // CONNECT on a closing request gives the same 501 as an unknown method.
      require(p.body == want || (p.status == 501 && p.body == "501 Not Implemented\n"),
              "error body is not \"NNN Reason\"", p.raw);
      require(p.status == 400 || p.status == 413 || p.status == 414 || p.status == 417 ||
                  p.status == 431 || p.status == 501 || p.status == 505,
              "unexpected status from the connection", p.raw);
      ++errors;
    }
    if (closes) closed_by_response = true;
    o.finals.push_back(std::move(p));
  }
  require(next_seq == o.seen.size(), "a handler call without its response", out);
  require(after.handler_errors - before.handler_errors == throws,
          "handler_errors does not count the 500s", out);
  require((after.requests - before.requests) + (after.client_errors - before.client_errors) ==
              o.seen.size() + connects + errors,
          "requests + client_errors do not count the responses", out);
}

// Deterministic piece sizes from the plan byte (xorshift32).
struct Pieces {
  uint32_t state;
  size_t max;
  size_t next() {
    if (max == 1) return 1;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return 1 + state % max;
  }
};

hs::Reactor& reactor() {
  static hs::Reactor r;
  return r;
}

hs::Logger& error_log() {
  static int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  static hs::Logger log(null_fd, hs::LoggerOptions{});
  return log;
}

// Fills `o` in place: its parsed responses hold views into its output.
void run_once(Outcome& o, hs::ExchangeShared& shared, std::string_view input, bool split,
              Pieces pieces) {
  Run run;
  run.draining = shared.worker.draining;
  g_run = &run;
  hs::ConnectionStats before = shared.worker.stats;
  {
    hs::test::ExchangeDriver conn(shared);
    std::string_view rest = input;
    while (!rest.empty()) {
      size_t n = split ? std::min(pieces.next(), rest.size()) : rest.size();
      size_t out_before = conn.output().size();
      bool was_closing = run.closing;
      conn.receive(rest.substr(0, n));
      if (was_closing)
        require(conn.output().size() == out_before, "output grew after a closing response",
                conn.output());
      rest.remove_prefix(n);
    }
    conn.receive_eof();
    o.closed = conn.closed();
    o.output = conn.output();
  }
  o.seen = std::move(run.seen);
  g_run = nullptr;
  error_log().flush();
  check_run(o, before, shared.worker.stats, shared.worker.draining);
  check_against_strict_reader(o.seen, input);
}

std::string without_date(const Parsed& p) {
  std::string s = std::to_string(p.status) + "\n";
  for (const auto& [n, v] : p.fields) {
    if (iequals(n, "Date")) continue;
    s += n + ": " + v + "\n";
  }
  return s + "\n" + p.body;
}

bool is_connection_error(const Parsed& p) {
  return !p.field("X-Seq") && p.closes() && p.status >= 400 && p.status != 500;
}

bool is_limit_error(const Parsed& p) {
  return p.status == 413 || p.status == 414 || p.status == 431;
}

// Which error a client gets for a request that is both too large and malformed depends on
// where the reads end: llhttp reports a span (target, field, body) when the span ends or when
// llhttp_execute returns, so the connection sees the limit crossed early in small pieces but
// sees the syntax error first when the same bytes come at once. Both answers close, after
// the same earlier responses and the same handler calls; only the code differs. That much is
// tolerated (and counted); a request answered in one run and refused in the other is not.
size_t g_tolerated_error_mismatches = 0;

bool same_seen(const Seen& a, const Seen& b) {
  return a.method == b.method && a.target == b.target && a.body == b.body && a.host == b.host;
}

// Returns an empty string when the two runs answered alike, else what differs.
std::string difference(const Outcome& whole, const Outcome& pieces) {
  if (whole.seen.size() != pieces.seen.size()) return "a different number of handler calls";
  for (size_t i = 0; i < whole.seen.size(); ++i)
    if (!same_seen(whole.seen[i], pieces.seen[i]))
      return "the handler saw a different request " + std::to_string(i);
  if (whole.finals.size() != pieces.finals.size()) return "a different number of responses";
  for (size_t i = 0; i < whole.finals.size(); ++i) {
    const Parsed &a = whole.finals[i], &b = pieces.finals[i];
    if (without_date(a) == without_date(b)) continue;
    bool last = i + 1 == whole.finals.size();
    if (last && is_connection_error(a) && is_connection_error(b) &&
        (is_limit_error(a) || is_limit_error(b))) {
      ++g_tolerated_error_mismatches;
      continue;
    }
    return "response " + std::to_string(i) + " differs";
  }
  return {};
}

// A second way through the codec (`other`: without the common-head parser, or head first)
// must be invisible: everything the handler saw and every response.
void compare_paths(const Outcome& common, const Outcome& llhttp, std::string_view other) {
  std::string diff;
  if (common.seen.size() != llhttp.seen.size()) diff = "a different number of handler calls";
  for (size_t i = 0; diff.empty() && i < common.seen.size(); ++i) {
    const Seen &a = common.seen[i], &b = llhttp.seen[i];
    if (!same_seen(a, b) || a.fields != b.fields || a.minor != b.minor ||
        a.keep_alive != b.keep_alive || a.closes != b.closes)
      diff = "the handler saw a different request " + std::to_string(i);
  }
  if (diff.empty() && common.finals.size() != llhttp.finals.size())
    diff = "a different number of responses";
  for (size_t i = 0; diff.empty() && i < common.finals.size(); ++i)
    if (without_date(common.finals[i]) != without_date(llhttp.finals[i]))
      diff = "response " + std::to_string(i) + " differs";
  if (diff.empty() && common.closed != llhttp.closed) diff = "one closed, the other did not";
  if (diff.empty()) return;
  std::fprintf(stderr, "--- %.*s ---\n", static_cast<int>(other.size()), other.data());
  print_escaped(llhttp.output);
  violation(std::string(other) + " changed the outcome: " + diff, common.output);
}

void compare(const Outcome& whole, const Outcome& pieces, uint8_t plan) {
  std::string diff = difference(whole, pieces);
  if (diff.empty()) return;
  auto describe = [&](const Outcome& o) {
    std::string s;
    for (const Parsed& p : o.finals) s += std::to_string(p.status) + " ";
    return s + "(" + std::to_string(o.seen.size()) + " handler calls)";
  };
  std::fprintf(stderr, "--- unsplit output ---\n");
  print_escaped(whole.output);
  violation("split input answered differently from unsplit (plan byte " + std::to_string(plan) +
                "): " + diff + ": unsplit " + describe(whole) + ", split " + describe(pieces),
            pieces.output);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit([] {
    if (g_tolerated_error_mismatches != 0)
      std::fprintf(stderr,
                   "connection_fuzz: %zu inputs got a different error code split than "
                   "unsplit (tolerated: a limit error against another error)\n",
                   g_tolerated_error_mismatches);
    if (g_tolerated_known_bug != 0)
      std::fprintf(stderr,
                   "connection_fuzz: %zu inputs hit a known bug (CONNECTION_FUZZ_KNOWN_BUGS) "
                   "in the split/unsplit comparison\n",
                   g_tolerated_known_bug);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t plan = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  static constexpr size_t kMaxPiece[4] = {1, 7, 64, 700};
  Pieces pieces{
      static_cast<uint32_t>(((plan >> 2) & 7) + 1) * 2654435761u ^ static_cast<uint32_t>(size),
      kMaxPiece[plan & 3]};
  if (pieces.state == 0) pieces.state = 1;

  hs::Limits limits = fuzz_limits();
  // One ConnectionShared for both runs, as one reactor's connections share it: the second run
  // gets the buffers the first gave back to the pool.
  hs::ExchangeShared shared(
      reactor(), limits, [&limits](const hs::Request& q, hs::Response& r) { handle(q, r, limits); },
      &error_log(), std::string(kServerName));
  shared.worker.draining = (plan & 0xc0) == 0xc0;

  Outcome whole, split, llhttp_only;
  run_once(whole, shared, input, false, pieces);
  run_once(split, shared, input, true, pieces);
  shared.worker.codec_rules.common_heads = false;
  run_once(llhttp_only, shared, input, false, pieces);
  shared.worker.codec_rules.common_heads = true;
  compare_paths(whole, llhttp_only, "llhttp only");
  Outcome head_first;
  shared.worker.codec_rules.head_first = true;
  run_once(head_first, shared, input, false, pieces);
  shared.worker.codec_rules.head_first = false;
  compare_paths(whole, head_first, "head first");
  // CONNECTION_FUZZ_VERBOSE=1 prints each input's unsplit responses: for writing seeds.
  static const bool verbose = std::getenv("CONNECTION_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "=== plan %u, %zu handler calls, closed %d ===\n", plan, whole.seen.size(),
                 whole.closed ? 1 : 0);
    print_escaped(whole.output);
  }
  compare(whole, split, plan);
  return 0;
}
