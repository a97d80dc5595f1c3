// The server's side of Request and Response: what the connection hands to a handler and takes
// back from it. Internal (never installed): a host fills neither a Request nor these parts of
// a Response itself, so they stay out of the public headers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <httpserver/http.hpp>

namespace hs {

struct RequestAccess {
  // The request's parts, as the codec found them; body_pending() and request_id() are left.
  static void set(Request& q, std::string_view method, std::string_view target, int major,
                  int minor, std::span<const Header> headers, std::string_view body,
                  bool keep_alive) noexcept {
    q.method_ = method;
    q.target_ = target;
    q.version_major_ = major;
    q.version_minor_ = minor;
    q.headers_ = headers.data();
    q.header_count_ = headers.size();
    q.body_ = body;
    q.keep_alive_ = keep_alive;
    q.body_pending_ = false;
  }
  static void set_request_id(Request& q, std::string_view id) noexcept { q.request_id_ = id; }
  static void set_body_pending(Request& q, bool pending) noexcept { q.body_pending_ = pending; }
};

struct ResponseAccess {
  static BodyProducer take_producer(Response& r) noexcept { return std::move(r.producer_); }
  static TakeOver release_take_over(Response& r) noexcept { return std::move(r.take_over_); }
  static std::shared_ptr<BodyReader> release_reader(Response& r) noexcept {
    return std::move(r.reader_);
  }
  static void set_resumer(BodyReader& reader, std::function<void()> resume) noexcept {
    reader.resume_ = std::move(resume);
  }
  // A body elsewhere (Response::send_file, send_shared), taken for sending.
  static std::shared_ptr<const OpenFile> take_file(Response& r) noexcept {
    return std::move(r.file_);
  }
  static uint64_t file_offset(const Response& r) noexcept { return r.file_offset_; }
  static std::shared_ptr<const std::string> take_shared(Response& r) noexcept {
    return std::move(r.shared_body_);
  }
  static std::shared_ptr<DeferredState> take_deferred(Response& r) noexcept {
    return std::move(r.deferred_);
  }
};

}  // namespace hs
