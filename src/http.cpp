#include "http.hpp"

#include <charconv>
#include <cstring>

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

}  // namespace

void Request::set(std::string_view method, std::string_view target, int major, int minor,
                  std::span<const Header> headers, std::string_view body,
                  bool keep_alive) noexcept {
  method_ = method;
  target_ = target;
  version_major_ = major;
  version_minor_ = minor;
  headers_ = headers.data();
  header_count_ = headers.size();
  body_ = body;
  keep_alive_ = keep_alive;
  // Absolute form "http://host/p?q": the path starts at the first '/' after "//".
  std::string_view rest = target;
  if (!rest.empty() && rest.front() != '/') {
    auto scheme = rest.find("://");
    if (scheme != std::string_view::npos) {
      auto slash = rest.find('/', scheme + 3);
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
  }
  auto mark = rest.find('?');
  path_ = rest.substr(0, mark);
  query_ = mark == std::string_view::npos ? std::string_view() : rest.substr(mark + 1);
  auto hash = path_.find('#');  // a fragment is never sent, but never route on one either
  if (hash != std::string_view::npos) path_ = path_.substr(0, hash);
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
      fields_[i].second.assign(value);
      return;
    }
  }
  add_header(name, value);
}

void Response::add_header(std::string_view name, std::string_view value) {
  if (count_ == fields_.size()) fields_.emplace_back();
  // assign() reuses the capacity left by earlier requests: no allocation once warm.
  fields_[count_].first.assign(name);
  fields_[count_].second.assign(value);
  ++count_;
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
  producer_ = nullptr;
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

bool response_has_no_body(int status, std::string_view method) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304 || method == "HEAD";
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

template <class Sink>
void emit(Sink& sink, const Response& response, const ResponseContext& context, int status,
          std::string_view status_number, std::string_view length) noexcept {
  using Framing = ResponseContext::Framing;
  sink.put("HTTP/1.1 ");
  sink.put(status_number);
  sink.put(" ");
  sink.put(status_text(status));
  sink.put("\r\n");
  if (!context.server.empty()) {
    sink.put("Server: ");
    sink.put(context.server);
    sink.put("\r\n");
  }
  sink.put("Date: ");
  sink.put(context.date);
  sink.put("\r\n");
  for (const auto& [name, value] : response.headers()) {
    if (reserved_field(name)) continue;
    sink.put(name);
    sink.put(": ");
    sink.put(value);
    sink.put("\r\n");
  }
  // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 sections 8.6, 15).
  bool bodiless_status = (status < 200) || status == 204 || status == 304;
  if (!bodiless_status && context.framing == Framing::length) {
    sink.put("Content-Length: ");
    sink.put(length);
    sink.put("\r\n");
  } else if (!bodiless_status && context.framing == Framing::chunked) {
    sink.put("Transfer-Encoding: chunked\r\n");
  }
  if (context.close) {
    sink.put("Connection: close\r\n");
  } else if (context.keep_alive_10) {
    sink.put("Connection: keep-alive\r\n");
  }
  sink.put("\r\n");
  if (context.framing == Framing::length && !response_has_no_body(status, context.method))
    sink.put(response.body);
}

}  // namespace

void serialize(const Response& response, const ResponseContext& context, std::string& out) {
  int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
  char status_digits[20], length_digits[20];
  std::string_view status_number(status_digits,
                                 format_decimal(static_cast<uint64_t>(status), status_digits));
  std::string_view length(length_digits, format_decimal(response.body.size(), length_digits));
  Counter counter;
  emit(counter, response, context, status, status_number, length);
  size_t start = out.size();
  out.resize(start + counter.size);
  Writer writer{out.data() + start};
  emit(writer, response, context, status, status_number, length);
}

std::string_view DateCache::now() noexcept {
  std::time_t t = std::time(nullptr);  // vDSO: no system call
  if (t != second_) {
    second_ = t;
    length_ = format_imf_fixdate(t, text_);
  }
  return {text_, length_};
}

std::string DateCache::format(std::time_t t) {
  char text[32];
  return {text, format_imf_fixdate(t, text)};
}

}  // namespace hs
