#include "request_codec.hpp"

#include <llhttp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>

#include <httpserver/http.hpp>

#include "token.hpp"
#include "traffic.hpp"

namespace hs {

static_assert(sizeof(llhttp_t) <= RequestCodec::kParserBytes && alignof(llhttp_t) <= 8);

namespace {

RequestCodec& self(llhttp_t* parser) { return *static_cast<RequestCodec*>(parser->data); }

// Static one-line trampolines into the codec (as Node's parser binding does).
int cb_message_begin(llhttp_t* p) { return self(p).on_message_begin(); }
int cb_method(llhttp_t* p, const char* at, size_t n) { return self(p).on_method(at, n); }
int cb_url(llhttp_t* p, const char* at, size_t n) { return self(p).on_url(at, n); }
int cb_header_field(llhttp_t* p, const char* at, size_t n) {
  return self(p).on_header_field(at, n);
}
int cb_header_field_complete(llhttp_t* p) { return self(p).on_header_field_complete(); }
int cb_header_value(llhttp_t* p, const char* at, size_t n) {
  return self(p).on_header_value(at, n);
}
int cb_header_value_complete(llhttp_t* p) { return self(p).on_header_value_complete(); }
int cb_headers_complete(llhttp_t* p) { return self(p).on_headers_complete(); }
int cb_body(llhttp_t* p, const char* at, size_t n) { return self(p).on_body(at, n); }
int cb_message_complete(llhttp_t* p) { return self(p).on_message_complete(); }

// Assigned field by field, not with designated initializers: the order of the struct's fields
// differs between llhttp 8 (Debian 12) and 9.
llhttp_settings_t make_settings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = cb_message_begin;
  s.on_method = cb_method;
  s.on_url = cb_url;
  s.on_header_field = cb_header_field;
  s.on_header_field_complete = cb_header_field_complete;
  s.on_header_value = cb_header_value;
  s.on_header_value_complete = cb_header_value_complete;
  s.on_headers_complete = cb_headers_complete;
  s.on_body = cb_body;
  s.on_message_complete = cb_message_complete;
  return s;
}

// llhttp keeps a pointer to its settings: they must outlive every parser.
const llhttp_settings_t kSettings = make_settings();

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  return v;
}

// Every line of the head ends in CRLF, and no line but the first starts with whitespace
// (obs-fold).
bool strict_line_endings(const char* begin, const char* end) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101;
  for (const char* p = begin; p < end; ++p) {
    // Eight bytes at a time to the next byte below 0x0e ('\r' is 0x0d): the lowest flag of
    // this bit trick is exact (higher ones may not be), and a head has few such bytes.
    for (uint64_t w, low; end - p >= 8; p += 8) {
      std::memcpy(&w, p, 8);
      low = (w - kOnes * 0x0e) & ~w & kOnes * 0x80;
      if (low != 0) {
        p += std::countr_zero(low) / 8;
        break;
      }
    }
    if (p == end) break;
    if (*p > '\r') continue;  // the last bytes, checked one at a time
    if (*p == '\r' && (p + 1 >= end || p[1] != '\n')) return false;
    if (*p == '\n' && (p == begin || p[-1] != '\r' || (p + 1 < end && is_ows(p[1])))) return false;
  }
  return true;
}

// How far a request line that llhttp refused is well formed: `method SP request-target SP
// HTTP-version CRLF` (RFC 9112 section 3) with a token method, a target of visible bytes and
// a version of the form HTTP/d.d. Lenient where llhttp is strict (any token, any digits):
// what llhttp refused yet fits this shape is a method we do not know (501) or a version we do
// not speak (505); what does not fit is malformed (400).
enum class LineShape { partial_method, partial_target, partial_version, malformed, complete };

LineShape request_line_shape(std::string_view line) noexcept {
  size_t i = 0;
  while (i < line.size() && is_tchar(line[i])) ++i;
  if (i == line.size()) return LineShape::partial_method;
  if (i == 0 || line[i] != ' ') return LineShape::malformed;
  size_t j = ++i;
  while (j < line.size() && static_cast<unsigned char>(line[j]) > ' ' && line[j] != 0x7f) ++j;
  if (j == line.size()) return LineShape::partial_target;
  if (j == i || line[j] != ' ') return LineShape::malformed;
  static constexpr std::string_view kVersion = "HTTP/d.d\r\n";
  for (size_t k = 0; k < kVersion.size(); ++k) {
    if (++j == line.size()) return LineShape::partial_version;
    char c = line[j];
    bool ok = kVersion[k] == 'd' ? (c >= '0' && c <= '9') : c == kVersion[k];
    if (!ok) return LineShape::malformed;
  }
  return LineShape::complete;
}

}  // namespace

RequestCodec::RequestCodec(CodecRules& rules) noexcept : rules_(rules) {
  llhttp_init(parser(), HTTP_REQUEST, &kSettings);
  parser()->data = this;
}

void RequestCodec::reset() noexcept {
  llhttp_init(parser(), HTTP_REQUEST, &kSettings);
  parser()->data = this;
  in_ = nullptr;
  head_ = Head{};
  phase_ = Phase::idle;
  pause_ = Pause::none;
  began_ = in_field_ = in_value_ = execute_again_ = expect_continue_ = streamed_ = false;
  sized_left_ = 0;
  head_bytes_ = 0;
  error_status_ = refused_error_ = status_ = 0;
  reason_ = "";
}

RequestCodec::Result RequestCodec::decode_slow(ReadBuffer& b, bool common_declined) noexcept {
  in_ = &b;
  if (phase_ == Phase::failed) return Result::error;
  if (streamed_) b.body = Span{static_cast<uint32_t>(b.parsed), 0};  // the next piece
  while (b.parsed < b.length || execute_again_) {
    if (refused_error_ != 0 && !refused_line(b))
      return phase_ == Phase::failed ? Result::error : Result::more;
    if (phase_ == Phase::sized) return decode_sized(b);
    if (phase_ == Phase::chunked) {
      Result r = decode_chunked(b);
      if (r != Result::more) return r;
      continue;
    }
    if (phase_ == Phase::idle) {
      b.line_start = static_cast<uint32_t>(b.parsed);
      if (rules_.common_heads && !common_declined && parse_common(b))
        return phase_ == Phase::idle ? Result::request : common_body(b);
      common_declined = false;
      tabs_.reset();
    }
    char* base = b.data.get();
    if (phase_ == Phase::idle || phase_ == Phase::head)
      tabs_.feed(base + b.parsed, base + b.length);
    execute_again_ = false;
    pause_ = Pause::none;
    llhttp_errno_t err = llhttp_execute(parser(), base + b.parsed, b.length - b.parsed);
    if (err == HPE_OK) {
      b.parsed = b.length;
      if (streamed_ && b.body.length != 0) return Result::body_piece;
      // Bytes llhttp skips without a callback (whitespace around field values) count too.
      if (phase_ == Phase::head && b.parsed - b.line_start > max_head_wire_bytes())
        return fail(431, "head too large");
      break;
    }
    const char* at = llhttp_get_error_pos(parser());
    if (at != nullptr) b.parsed = static_cast<size_t>(at - base);
    if (err == HPE_PAUSED) {
      if (pause_ == Pause::head) {
        b.head_end = static_cast<uint32_t>(b.parsed);
        if (int status = check_head(b)) return fail(status, reason_);
        if (rules_.head_first) {
          head_.expect_continue = expect_continue_;
          expect_continue_ = false;
          return Result::head;
        }
        start_body(rules_.max_body_bytes);
        if (expect_continue_) {
          expect_continue_ = false;
          return Result::continue_100;
        }
        continue;
      }
      llhttp_resume(parser());
      if (pause_ == Pause::message) {
        if (b.head_end == 0) {  // a bodiless request: its head ends where it does
          b.head_end = static_cast<uint32_t>(b.parsed);
          if (int status = check_head(b)) return fail(status, reason_);
        }
        return ready();
      }
      continue;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // Upgrade or CONNECT: we do not switch protocols, so the connection goes on speaking
      // HTTP/1.1 (the request itself was complete at on_message_complete).
      llhttp_resume_after_upgrade(parser());
      continue;
    }
    if (error_status_ == 0 && (err == HPE_INVALID_METHOD || err == HPE_INVALID_VERSION)) {
      refused_error_ = err;
      if (!refused_line(b)) return phase_ == Phase::failed ? Result::error : Result::more;
      continue;
    }
    return fail(error_status_ != 0 ? error_status_ : 400, llhttp_get_error_reason(parser()));
  }
  return Result::more;
}

int RequestCodec::read_body() noexcept {
  uint64_t length = phase_ == Phase::sized  ? sized_left_
                    : phase_ == Phase::body ? parser()->content_length
                                            : 0;
  if (length > rules_.max_body_bytes) {
    fail(413, "body too large");
    return 413;
  }
  start_body(rules_.max_body_bytes);
  return 0;
}

void RequestCodec::stream_body() noexcept {
  streamed_ = true;
  // Unbounded, but kept clear of overflow where the decoder adds its framing allowance.
  start_body(SIZE_MAX / 2);
}

// After check_head: the body is read from here on. A chunked one is ours (llhttp stays paused
// at the head, and is reset at the end); a Content-Length one is llhttp's, or ours after a
// common head (which llhttp never saw).
void RequestCodec::start_body(size_t max_body) noexcept {
  if (phase_ == Phase::sized) {
    in_->body = Span{in_->head_end, 0};
    return;
  }
  if (phase_ == Phase::chunked) {
    chunked_.start({max_body, rules_.max_header_bytes, rules_.max_chunk_line_bytes,
                    rules_.max_chunk_extension_bytes});
    in_->body = Span{in_->head_end, 0};
    return;
  }
  llhttp_resume(parser());
  execute_again_ = true;
}

uint64_t RequestCodec::body_bytes_left() const noexcept {
  if (phase_ == Phase::sized) return sized_left_;
  // llhttp counts a Content-Length down as it hands the body over.
  if (phase_ != Phase::body) return 0;
  return reinterpret_cast<const llhttp_t*>(parser_storage_)->content_length;
}

RequestCodec::Result RequestCodec::finish() noexcept {
  if (phase_ == Phase::failed) return Result::error;
  // The refused line will not be finished now.
  if (refused_error_ != 0) return fail(400, "request line cut short");
  return Result::more;
}

RequestCodec::Result RequestCodec::fail(int status, const char* reason) noexcept {
  phase_ = Phase::failed;
  status_ = status;
  reason_ = reason != nullptr ? reason : "";
  return Result::error;
}

void RequestCodec::compact(ReadBuffer& b) const noexcept {
  // Keep [keep_begin, keep_end) for the spans of the request in progress, and the unparsed
  // bytes [parsed, length) right after them. A chunked body ends at body.end(): from there to
  // `parsed` is framing already decoded.
  // A streamed body's pieces are the caller's once given, and its head was the handler's.
  bool spans = in_request() && !streamed_;
  size_t keep_begin = b.parsed, keep_end = b.parsed;
  if (spans) {
    keep_begin = b.line_start;
    if (phase_ == Phase::chunked) keep_end = b.body.end();
  }
  if (keep_begin == 0 && keep_end == b.parsed) return;
  size_t kept = keep_end - keep_begin;
  size_t unparsed = b.length - b.parsed;
  std::memmove(b.data.get(), b.data.get() + keep_begin, kept);
  std::memmove(b.data.get() + kept, b.data.get() + b.parsed, unparsed);
  uint32_t shift = static_cast<uint32_t>(keep_begin);
  if (spans) {
    if (b.method.length != 0) b.method.offset -= shift;
    if (b.target.length != 0) b.target.offset -= shift;
    for (auto& h : b.headers) h.name.offset -= shift, h.value.offset -= shift;
    if (b.body.length != 0 || phase_ == Phase::chunked) b.body.offset -= shift;
    if (b.head_start != 0) b.head_start -= shift;
    if (b.head_end != 0) b.head_end -= shift;
    b.line_start -= shift;
  }
  b.parsed = kept;
  b.length = kept + unparsed;
}

// llhttp refused the request line for its method or its version. Whether that is a method we
// do not know (RFC 9110 section 15.6.2: 501), a version we do not speak (section 15.6.6: 505)
// or a malformed line (400) is told by the whole line: until its end has come, the bytes are
// only kept (as many as a request line may hold), so the answer does not depend on how the
// line was split into reads. True when the line is to be parsed again.
bool RequestCodec::refused_line(ReadBuffer& b) noexcept {
  b.parsed = b.length;
  char* data = b.data.get();
  std::string_view line(data + b.line_start, b.length - b.line_start);
  while (!line.empty() && (line.front() == '\r' || line.front() == '\n')) line.remove_prefix(1);
  // Only as much as a request line may hold is looked at, so a line that is too long is
  // refused the same way whether it arrived whole or in pieces.
  const size_t max_line = rules_.max_target_bytes + 64;
  LineShape shape = request_line_shape(line.substr(0, max_line));
  switch (shape) {
    case LineShape::complete: {
      if (refused_error_ == HPE_INVALID_METHOD) {
        fail(501, "unknown method");
        return false;
      }
      // RFC 9110 section 2.5: a higher minor version of 1 is processed as 1.1, which llhttp 8
      // cannot be told to do: the line is parsed again, saying 1.1.
      size_t minor = static_cast<size_t>(line.data() - data) + line.find("\r\n") - 1;
      if (data[minor - 2] == '1' && data[minor] > '1') {
        data[minor] = '1';
        b.parsed = static_cast<size_t>(line.data() - data);
        refused_error_ = 0;
        phase_ = Phase::idle;
        llhttp_reset(parser());
        return true;
      }
      fail(505, "HTTP version not supported");
      return false;
    }
    case LineShape::malformed:
      break;
    case LineShape::partial_method:
    case LineShape::partial_target:
    case LineShape::partial_version:
      if (line.size() <= max_line) return false;  // wait for more
      if (shape == LineShape::partial_target) {
        fail(414, "request-target too long");
        return false;
      }
      break;
  }
  fail(400, "malformed request line");
  return false;
}

// A common head, complete in the buffer, parsed and checked in one pass; llhttp is not called
// and stays where it was, at the start of a message. False (nothing changed) for any other
// head: llhttp parses it.
bool RequestCodec::parse_common(ReadBuffer& b) noexcept {
  CommonHead common;
  size_t max_bytes = std::min(rules_.max_header_bytes, rules_.max_target_bytes);
  if (!parse_common_head(b, max_bytes, rules_.host_memo, common)) return false;
  // Begun and complete at once: the codec stays idle, and llhttp's callbacks, which
  // begin_message() prepares for, are not called.
  static constexpr TrafficStats::Method kLabels[] = {TrafficStats::kGet, TrafficStats::kHead,
                                                     TrafficStats::kPost, TrafficStats::kPut};
  if (common.content_length != 0 && !start_sized(b, common.content_length)) return false;
  began_ = true;
  head_.major = 1;
  head_.minor = common.minor;
  head_.keep_alive = common.keep_alive;
  head_.connect = false;
  head_.method = kLabels[static_cast<size_t>(common.method)];
  b.parsed = b.head_end;
  return true;
}

// A common head announced a body of `length` bytes: the codec reads it (Phase::sized). False,
// the head declined after all, when it is over the limit of a body read whole: check_head()
// refuses that at its head (413), so it is left to that path and the answer is the same.
bool RequestCodec::start_sized(ReadBuffer& b, uint64_t length) noexcept {
  if (!rules_.head_first && length > rules_.max_body_bytes) {
    b.reset_request();
    return false;
  }
  phase_ = Phase::sized;
  sized_left_ = length;
  head_.expect_continue = false;
  in_ = &b;  // for read_body() and stream_body()
  return true;
}

// After a common head with a body: the head first (head_first), as check_head() would stop
// there, or the body read on.
RequestCodec::Result RequestCodec::common_body(ReadBuffer& b) noexcept {
  if (rules_.head_first) return Result::head;
  return decode_slow(b, false);
}

// The next bytes of a Content-Length body after a common head, counted down as llhttp would:
// one run of the buffer when read whole, each read's bytes a piece when streamed.
RequestCodec::Result RequestCodec::decode_sized(ReadBuffer& b) noexcept {
  auto take = static_cast<uint32_t>(std::min<uint64_t>(b.length - b.parsed, sized_left_));
  if (b.body.length == 0) b.body.offset = static_cast<uint32_t>(b.parsed);
  b.body.length += take;
  b.parsed += take;
  sized_left_ -= take;
  if (sized_left_ == 0) return ready();
  return streamed_ ? Result::body_piece : Result::more;
}

RequestCodec::Result RequestCodec::decode_chunked(ReadBuffer& b) noexcept {
  size_t out = b.body.end();
  ChunkedDecoder::Result r = chunked_.decode(b.data.get(), b.parsed, b.length, out);
  b.body.length = static_cast<uint32_t>(out - b.body.offset);
  switch (r) {
    case ChunkedDecoder::Result::more:
      return streamed_ && b.body.length != 0 ? Result::body_piece : Result::more;
    case ChunkedDecoder::Result::done:
      llhttp_reset(parser());  // it stopped at the head: the next request starts afresh
      return ready();
    case ChunkedDecoder::Result::bad:
      return fail(400, "malformed chunked body");
    case ChunkedDecoder::Result::body_too_large:
      return fail(413, "body too large");
    case ChunkedDecoder::Result::line_too_long:
      return fail(413, "chunk-size line too long");
    case ChunkedDecoder::Result::extensions_too_large:
      return fail(413, "chunk extensions too large");
    case ChunkedDecoder::Result::trailers_too_large:
      return fail(431, "trailer section too large");
  }
  return fail(400, "malformed chunked body");
}

// Checks the complete head before any body is read. llhttp is strict, but it accepts bare
// LF line endings and space before the colon, which RFC 9112 tells servers to reject; and
// Host, Expect and body size are ours to judge. Returns 0, or the status of the refusal (with
// reason_ set).
int RequestCodec::check_head(ReadBuffer& b) noexcept {
  auto refuse = [this](int status, const char* reason) {
    reason_ = reason;
    return status;
  };
  const char* data = b.data.get();
  if (b.head_end - b.line_start > max_head_wire_bytes()) return refuse(431, "head too large");
  if (!strict_line_endings(data + b.head_start, data + b.head_end))
    return refuse(400, "line not ended by CRLF, or obs-fold");
  // RFC 9112 section 3: method SP request-target SP HTTP-version, single spaces.
  if (b.target.offset != b.method.end() + 1 || data[b.target.end()] != ' ' ||
      data[b.target.end() + 1] == ' ')
    return refuse(400, "request line not single-spaced");
  // No whitespace or control byte inside the target (llhttp lets a tab through).
  for (const char* p = data + b.target.offset; p < data + b.target.end(); ++p)
    if (static_cast<unsigned char>(*p) <= ' ' || *p == 0x7f)
      return refuse(400, "whitespace or control byte in the target");
  if (parser()->http_major == 0) return refuse(400, "no HTTP version");  // HTTP/0.9
  // RFC 9112 section 3.2.4: the asterisk form is for OPTIONS only.
  if (b.target.length == 1 && data[b.target.offset] == '*' && parser()->method != HTTP_OPTIONS)
    return refuse(400, "asterisk-form target without OPTIONS");
  if (parser()->http_major != 1) return refuse(505, "HTTP version not supported");
  int hosts = 0;
  std::string_view host;
  std::string_view expect;
  for (const HeaderSpan& h : b.headers) {  // values come trimmed (on_header_value_complete)
    std::string_view name(data + h.name.offset, h.name.length);
    // RFC 9110 section 5.1: a token. llhttp 8 lets spaces into a name ("A B", "Host :").
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar))
      return refuse(400, "field name not a token");
    if (iequals(name, "Host")) {
      ++hosts;
      host = {data + h.value.offset, h.value.length};
    } else if (iequals(name, "Transfer-Encoding")) {
      // RFC 9112 section 6.1: in HTTP/1.0 the framing is faulty. An HTTP/1.0 hop would have
      // framed the body otherwise, so no reading of it is safe: refused, and the connection
      // closed, before any of it is taken for a request.
      if (parser()->http_minor == 0) return refuse(400, "Transfer-Encoding in HTTP/1.0");
      // llhttp accepts "gzip, chunked" and would hand over a body still gzipped: we decode
      // no coding but chunked (RFC 9112 section 6.1: 501).
      if (!iequals({data + h.value.offset, h.value.length}, "chunked"))
        return refuse(501, "transfer coding other than chunked");
    } else if (iequals(name, "Expect")) {
      expect = {data + h.value.offset, h.value.length};
    }
  }
  // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in 1.0, a valid value.
  if (hosts > 1 || (hosts == 0 && parser()->http_minor >= 1) || !valid_host(host))
    return refuse(400, "missing, repeated or invalid Host");
  bool chunked = (parser()->flags & F_CHUNKED) != 0;
  // Head first, the limit applies only if the body is read whole (read_body()).
  if (!chunked && !rules_.head_first && parser()->content_length > rules_.max_body_bytes)
    return refuse(413, "body too large");
  head_.major = parser()->http_major;
  head_.minor = parser()->http_minor;
  head_.keep_alive = llhttp_should_keep_alive(parser()) != 0;
  head_.connect = parser()->method == HTTP_CONNECT;
  head_.expect_continue = false;
  // The one reading of a method's label (traffic.hpp), from the bytes the client sent.
  head_.method = method_label({b.data.get() + b.method.offset, b.method.length});
  if (!expect.empty()) {
    if (!iequals(expect, "100-continue")) return refuse(417, "expectation not supported");
    bool has_body = chunked || parser()->content_length > 0;
    // Ask for the body only when none of it is here yet and the client speaks 1.1.
    expect_continue_ = has_body && parser()->http_minor >= 1 && b.parsed == b.length;
  }
  // CONNECT has no body in llhttp's reading (what follows its head would be the tunnel), so
  // neither in ours.
  phase_ = chunked && !head_.connect ? Phase::chunked : Phase::body;
  return 0;
}

// --- llhttp callbacks -------------------------------------------------------------------

int RequestCodec::reject(int status, const char* reason) noexcept {
  error_status_ = status;
  llhttp_set_error_reason(parser(), reason);
  return HPE_USER;
}

int RequestCodec::on_message_begin() noexcept {
  in_->reset_request();
  begin_message();
  return 0;
}

void RequestCodec::begin_message() noexcept {
  phase_ = Phase::head;
  began_ = true;
  in_field_ = in_value_ = false;
  head_bytes_ = 0;
  error_status_ = 0;
}

int RequestCodec::on_method(const char* at, size_t length) noexcept {
  ReadBuffer& b = *in_;
  if (b.method.length == 0) {
    b.method.offset = offset_of(at);
    b.head_start = b.method.offset;
  }
  b.method.length += static_cast<uint32_t>(length);
  return 0;
}

int RequestCodec::on_url(const char* at, size_t length) noexcept {
  ReadBuffer& b = *in_;
  if (b.target.length == 0) b.target.offset = offset_of(at);
  b.target.length += static_cast<uint32_t>(length);
  if (b.target.length > rules_.max_target_bytes) return reject(414, "request-target too long");
  return 0;
}

int RequestCodec::on_header_field(const char* at, size_t length) noexcept {
  head_bytes_ += length;
  if (head_bytes_ > rules_.max_header_bytes) return reject(431, "header section too large");
  ReadBuffer& b = *in_;
  if (!in_field_) {
    in_field_ = true;
    HeaderSpan span;
    span.name.offset = offset_of(at);
    b.headers.push_back(span);  // capacity kept by the pooled buffer: no allocation when warm
  }
  b.headers.back().name.length += static_cast<uint32_t>(length);
  return 0;
}

int RequestCodec::on_header_field_complete() noexcept {
  in_field_ = false;
  head_bytes_ += 4;  // ": " and CRLF, so that many empty fields still count
  HeaderSpan& h = in_->headers.back();
  h.value.offset = h.name.end();  // an empty value gets no on_header_value call
  return 0;
}

int RequestCodec::on_header_value(const char* at, size_t length) noexcept {
  head_bytes_ += length;
  if (head_bytes_ > rules_.max_header_bytes) return reject(431, "header section too large");
  Span& v = in_->headers.back().value;
  if (!in_value_) {
    in_value_ = true;
    v.offset = offset_of(at);
    v.length = 0;
  } else if (offset_of(at) != v.end()) {
    // A second piece that does not continue the first: an obs-fold continuation line.
    // RFC 9112 section 5.2 lets a server reject it; we do, as folding hides smuggled fields.
    return reject(400, "obsolete line folding");
  }
  v.length += static_cast<uint32_t>(length);
  return 0;
}

int RequestCodec::on_header_value_complete() noexcept {
  in_value_ = false;
  // Trimmed once here, as parse_common_head() trims, rather than for every request's handler.
  Span& v = in_->headers.back().value;
  std::string_view value = trim_ows({in_->data.get() + v.offset, v.length});
  v = Span{offset_of(value.data()), static_cast<uint32_t>(value.size())};
  return 0;
}

int RequestCodec::on_headers_complete() noexcept {
  // check_head() needs the position of the end of the head. A request without a body ends
  // there, so the pause at its end serves; one with a body must be checked before the body
  // is read (413, 100-continue): pause here.
  if ((parser()->flags & F_CHUNKED) == 0 && parser()->content_length == 0) return 0;
  pause_ = Pause::head;
  return HPE_PAUSED;
}

// A Content-Length body: one run of the buffer, however many reads it took (chunked bodies
// are decoded by decode_chunked(), not here).
int RequestCodec::on_body(const char* at, size_t length) noexcept {
  Span& body = in_->body;
  if (!streamed_ && body.length + length > rules_.max_body_bytes)
    return reject(413, "body too large");
  if (body.length == 0) body.offset = offset_of(at);
  body.length += static_cast<uint32_t>(length);
  return 0;
}

int RequestCodec::on_message_complete() noexcept {
  pause_ = Pause::message;
  return HPE_PAUSED;  // one request at a time: the caller answers it before the next is parsed
}

}  // namespace hs
