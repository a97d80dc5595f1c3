#include "serialize.hpp"

#include <charconv>
#include <cstring>
#include <new>

#include <httpserver/http.hpp>

#include "bytes.hpp"

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

}  // namespace hs
