#include <charconv>
#include <cstring>

#include <httpserver/http.hpp>

#include "bytes.hpp"

namespace hs {

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
  // Most responses set none of them: one test rather than six.
  if (extras_) clear_extras();
}

void Response::clear_extras() noexcept {
  extras_ = false;
  if (producer_) producer_ = nullptr;
  if (take_over_) take_over_ = nullptr;
  if (reader_) reader_.reset();
  if (file_) file_.reset();
  if (shared_body_) shared_body_.reset();
  if (deferred_) deferred_.reset();
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

}  // namespace hs
