#include <unistd.h>

#include <charconv>
#include <cstring>

#include <httpserver/http.hpp>

#include "bytes.hpp"
#include "serialize.hpp"

namespace hs {

namespace {

// Fields a handler may not set: the connection owns framing and these values.
bool reserved_field(std::string_view name) noexcept {
  switch (name.size()) {  // the lengths of the five names
    case 4:
      return iequals(name, "Date");
    case 6:
      return iequals(name, "Server");
    case 10:
      return iequals(name, "Connection");
    case 14:
      return iequals(name, "Content-Length");
    case 17:
      return iequals(name, "Transfer-Encoding");
    default:
      return false;
  }
}

}  // namespace

// IMF-fixdate by hand: strftime's %a and %b follow the locale a host may have set.
size_t format_imf_fixdate(std::time_t t, char* out) noexcept {
  static constexpr char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm;
  ::gmtime_r(&t, &tm);
  auto two = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  std::memcpy(out, kDays[tm.tm_wday], 3);
  std::memcpy(out + 3, ", ", 2);
  two(out + 5, tm.tm_mday);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths[tm.tm_mon], 3);
  out[11] = ' ';
  int year = tm.tm_year + 1900;
  two(out + 12, year / 100 % 100);
  two(out + 14, year % 100);
  out[16] = ' ';
  two(out + 17, tm.tm_hour);
  out[19] = ':';
  two(out + 20, tm.tm_min);
  out[22] = ':';
  two(out + 23, tm.tm_sec);
  std::memcpy(out + 25, " GMT", 4);
  return 29;
}

namespace {

// The target past an absolute form's scheme and authority: where the path starts.
std::string_view origin_form(std::string_view target) noexcept {
  // Absolute form "http://host/p?q": the path starts at the first '/' after "//".
  std::string_view rest = target;
  if (!rest.empty() && rest.front() != '/') {
    auto scheme = rest.find("://");
    if (scheme != std::string_view::npos) {
      auto slash = rest.find('/', scheme + 3);
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
  }
  return rest;
}

}  // namespace

std::string_view Request::path() const noexcept {
  // The path ends at the first '?' or '#' (a fragment is never sent, but never route on one
  // either).
  std::string_view rest = origin_form(target_);
  size_t end = 0;
  while (end < rest.size() && rest[end] != '?' && rest[end] != '#') ++end;
  return rest.substr(0, end);
}

std::string_view Request::query() const noexcept {
  // What follows the first '?', wherever it is.
  std::string_view rest = origin_form(target_);
  size_t mark = rest.find('?');
  return mark == std::string_view::npos ? std::string_view() : rest.substr(mark + 1);
}

std::string_view Request::header(std::string_view name) const noexcept {
  for (size_t i = 0; i < header_count_; ++i)
    if (iequals(headers_[i].name, name)) return headers_[i].value;
  return {};
}

bool Request::has_header(std::string_view name) const noexcept {
  for (size_t i = 0; i < header_count_; ++i)
    if (iequals(headers_[i].name, name)) return true;
  return false;
}

void Response::set_header(std::string_view name, std::string_view value) {
  for (size_t i = 0; i < count_; ++i) {
    if (iequals(fields_[i].first, name)) {
      if (fields_[i].second != value) {
        fields_[i].second.assign(value);
        ++version_;
      }
      return;
    }
  }
  add_field(name, value);
}

void Response::add_header(std::string_view name, std::string_view value) { add_field(name, value); }

// Inlined into both: a handler's set_header() is on every request's path.
[[gnu::always_inline]] inline void Response::add_field(std::string_view name,
                                                       std::string_view value) {
  if (count_ == fields_.size()) fields_.emplace_back();
  // Reuses the slot (and its capacity) of the field an earlier response had in this place:
  // no allocation once warm, and nearly always not even a copy, since handlers tend to set
  // the same fields every time. clear() and append() rather than assign(), whose overlap
  // checks cost more than the copy.
  if (name.size() == 10 && iequals(name, "Connection")) has_connection_field_ = true;
  auto& [n, v] = fields_[count_++];
  if (equal_bytes(n, name) && equal_bytes(v, value)) return;
  n.clear();
  n.append(name);
  v.clear();
  v.append(value);
  ++version_;
}

std::string_view Response::header(std::string_view name) const noexcept {
  for (size_t i = 0; i < count_; ++i)
    if (iequals(fields_[i].first, name)) return fields_[i].second;
  return {};
}

void Response::clear() noexcept {
  status = 200;
  body.clear();
  count_ = 0;
  has_connection_field_ = false;
  // Tested first: most responses set none of them, and a test is cheaper than a reset.
  if (producer_) producer_ = nullptr;
  if (take_over_) take_over_ = nullptr;
  if (reader_) reader_.reset();
  if (file_) file_.reset();
  if (shared_body_) shared_body_.reset();
  if (deferred_) deferred_.reset();
}

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string_view status_text(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

size_t format_decimal(uint64_t value, char* out) noexcept {
  auto result = std::to_chars(out, out + 20, value);
  return static_cast<size_t>(result.ptr - out);
}

namespace {

// Counts the bytes of a response, then writes them: serialize() walks the response twice
// with the same code, so the two can never disagree, and the output string grows once.
struct Counter {
  size_t size = 0;
  void put(std::string_view s) noexcept { size += s.size(); }
};
struct Writer {
  char* p;
  void put(std::string_view s) noexcept {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
};

// The status line, Server and Date: the part of the head that is the same for every response
// with this status in this second.
template <class Sink>
void emit_head_start(Sink& sink, int status, std::string_view server,
                     std::string_view date) noexcept {
  char digits[20];
  sink.put("HTTP/1.1 ");
  sink.put({digits, format_decimal(static_cast<uint64_t>(status), digits)});
  sink.put(" ");
  sink.put(status_text(status));
  sink.put("\r\n");
  if (!server.empty()) {
    sink.put("Server: ");
    sink.put(server);
    sink.put("\r\n");
  }
  sink.put("Date: ");
  sink.put(date);
  sink.put("\r\n");
}

// The start of the head of the last response serialized on this thread. Nearly every
// response in a second has the same status, server name and date: that response's head
// starts with one copy of these bytes instead of nine pieces and two number conversions.
// The key is compared against the bytes themselves, so a stale entry cannot be used; a head
// too long for the buffer (a very long server name) is simply not cached.
struct HeadStartCache {
  int status = 0;  // 0: empty
  size_t length = 0;
  size_t server_at = 0, server_length = 0;
  size_t date_at = 0, date_length = 0;
  char text[192];

  bool holds(int s, std::string_view server, std::string_view date) const noexcept {
    return status == s && server.size() == server_length && date.size() == date_length &&
           equal_bytes(text + date_at, date.data(), date.size()) &&
           equal_bytes(text + server_at, server.data(), server.size());
  }
  // The head's start for this key: cached, or formatted into the cache; empty if too long.
  std::string_view get(int s, std::string_view server, std::string_view date) noexcept {
    if (holds(s, server, date)) return {text, length};
    Counter counter;
    emit_head_start(counter, s, server, date);
    status = 0;
    if (counter.size > sizeof text) return {};
    Writer writer{text};
    emit_head_start(writer, s, server, date);
    length = counter.size;
    // Where the key's values sit, counted back from the end: "...Server: <server>\r\n"
    // "Date: <date>\r\n".
    date_length = date.size();
    date_at = length - 2 - date_length;
    server_length = server.size();
    server_at = server.empty() ? date_at : date_at - 6 - 2 - server_length;
    status = s;
    return {text, length};
  }
};

// The whole head of the last response serialized. A handler nearly always sets
// the same fields with the same values, so the next head is the same bytes: one copy instead
// of a walk over the fields. The key is what the head is made of: the fields (by their
// version, see Response::fields_version), the status, the body's length and framing, the
// Connection field, and (through the HeadStartCache, built with it) the Server and Date values.
struct HeadCache {
  uint64_t fields_version = 0;  // 0: empty
  size_t fields = 0;
  int status = 0;
  uint64_t body_length = 0;  // Content-Length, of `body` or of a body elsewhere
  bool elsewhere = false;
  ResponseContext::Framing framing = ResponseContext::Framing::length;
  bool close = false, keep_alive_10 = false, upgrade = false;
  bool body_kept = false;  // a short body's bytes follow the head in text
  size_t length = 0;       // of the head
  char text[512];

  bool holds(const Response& r, int s, const ResponseContext& c) const noexcept {
    return fields_version == r.fields_version() && fields == r.headers().size() && status == s &&
           body_length == r.content_length() && elsewhere == r.body_elsewhere() &&
           framing == c.framing && close == c.close && keep_alive_10 == c.keep_alive_10 &&
           upgrade == c.upgrade;
  }
  void keep(const Response& r, int s, const ResponseContext& c, std::string_view head) noexcept {
    fields_version = 0;
    if (head.size() > sizeof text) return;
    std::memcpy(text, head.data(), head.size());
    length = head.size();
    // A handler that answers with the same short body each time (a fixed text, a health
    // check) then gets its whole response in one copy.
    body_kept = !r.body_elsewhere() && r.body.size() <= 64 && length + r.body.size() <= sizeof text;
    if (body_kept) std::memcpy(text + length, r.body.data(), r.body.size());
    fields_version = r.fields_version();
    fields = r.headers().size();
    status = s;
    body_length = r.content_length();
    elsewhere = r.body_elsewhere();
    framing = c.framing;
    close = c.close;
    keep_alive_10 = c.keep_alive_10;
    upgrade = c.upgrade;
  }
};

// What serialize() decided once, so that both passes of emit() only copy.
struct Parts {
  int status;
  std::string_view head_start;  // empty: not cached, emitted piece by piece
  std::string_view length;      // Content-Length's digits; empty: no Content-Length field
  bool chunked;                 // Transfer-Encoding: chunked
  bool send_body;
};

template <class Sink>
void emit(Sink& sink, const Response& response, const ResponseContext& context,
          const Parts& parts) noexcept {
  if (!parts.head_start.empty()) {
    sink.put(parts.head_start);
  } else {
    emit_head_start(sink, parts.status, context.server, context.date);
  }
  for (const auto& [name, value] : response.headers()) {
    if (reserved_field(name)) continue;
    sink.put(name);
    sink.put(": ");
    sink.put(value);
    sink.put("\r\n");
  }
  if (!parts.length.empty()) {
    sink.put("Content-Length: ");
    sink.put(parts.length);
    sink.put("\r\n");
  } else if (parts.chunked) {
    sink.put("Transfer-Encoding: chunked\r\n");
  }
  if (context.close) {
    sink.put("Connection: close\r\n");
  } else if (context.upgrade) {
    sink.put("Connection: Upgrade\r\n");
  } else if (context.keep_alive_10) {
    sink.put("Connection: keep-alive\r\n");
  }
  sink.put("\r\n");
  if (parts.send_body) sink.put(response.body);
}

// The body of serialize(), given the caches of the response.
void serialize_with(HeadStartCache& start_cache, HeadCache& head_cache, const Response& response,
                    const ResponseContext& context, std::string& out) {
  using Framing = ResponseContext::Framing;
  int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
  // A body elsewhere is the caller's to send after the head (Response::send_file).
  bool send_body = context.framing == Framing::length && !response.body_elsewhere() &&
                   !response_has_no_body(status, context.method);
  if (start_cache.holds(status, context.server, context.date) &&
      head_cache.holds(response, status, context)) {
    if (send_body && head_cache.body_kept &&
        equal_bytes(head_cache.text + head_cache.length, response.body.data(),
                    response.body.size())) {
      out.append(head_cache.text, head_cache.length + response.body.size());
      return;
    }
    out.append(head_cache.text, head_cache.length);
    if (send_body) out.append(response.body);
    return;
  }
  char length_digits[20];
  Parts parts{status, start_cache.get(status, context.server, context.date), {}, false, false};
  // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 sections 8.6, 15).
  bool bodiless_status = (status < 200) || status == 204 || status == 304;
  if (!bodiless_status && context.framing == Framing::length) {
    parts.length = {length_digits, format_decimal(response.content_length(), length_digits)};
  } else if (!bodiless_status && context.framing == Framing::chunked) {
    parts.chunked = true;
  }
  parts.send_body = send_body;
  Counter counter;
  emit(counter, response, context, parts);
  size_t start = out.size();
  out.resize(start + counter.size);
  Writer writer{out.data() + start};
  emit(writer, response, context, parts);
  if (!parts.head_start.empty()) {  // cached too: head_cache's key relies on it
    size_t head = counter.size - (send_body ? response.body.size() : 0);
    head_cache.keep(response, status, context, {out.data() + start, head});
  }
}

}  // namespace

struct Response::HeadCaches {
  HeadStartCache start;
  HeadCache head;
};

Response::CacheSlot::CacheSlot() noexcept = default;
Response::CacheSlot::CacheSlot(const CacheSlot&) noexcept {}
Response::CacheSlot::~CacheSlot() = default;
Response::CacheSlot::CacheSlot(CacheSlot&&) noexcept = default;
Response::CacheSlot& Response::CacheSlot::operator=(CacheSlot&&) noexcept = default;

Response::CacheSlot& Response::CacheSlot::operator=(const CacheSlot&) noexcept {
  if (caches) *caches = HeadCaches{};  // the fields are another Response's now
  return *this;
}

void serialize(const Response& response, const ResponseContext& context, std::string& out) {
  auto& caches = response.cache_.caches;
  if (!caches) caches.reset(new (std::nothrow) Response::HeadCaches());
  if (!caches) {  // no memory to keep them: caches for this call only
    Response::HeadCaches once;
    return serialize_with(once.start, once.head, response, context, out);
  }
  serialize_with(caches->start, caches->head, response, context, out);
}

std::string_view DateCache::now() noexcept {
  std::time_t t = std::time(nullptr);  // vDSO: no system call
  if (t != second_) {
    second_ = t;
    length_ = format_imf_fixdate(t, text_);
  }
  return {text_, length_};
}

std::string_view DateCache::refresh(uint64_t monotonic_ms) noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);  // vDSO: no system call
  if (ts.tv_sec != second_) {
    second_ = ts.tv_sec;
    length_ = format_imf_fixdate(ts.tv_sec, text_);
  }
  // The rest of this second, counted from a monotonic reading taken no later than the wall
  // clock's: if anything, it ends early.
  valid_until_ms_ = monotonic_ms + 1000 - static_cast<uint64_t>(ts.tv_nsec) / 1000000;
  return {text_, length_};
}

std::string DateCache::format(std::time_t t) {
  char text[32];
  return {text, format_imf_fixdate(t, text)};
}

}  // namespace hs
