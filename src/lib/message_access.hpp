// The server's side of Request and Response: what the connection hands to a handler and takes
// back from it. Internal (never installed): a host fills neither a Request nor these parts of
// a Response itself, so they stay out of the public headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <httpserver/http.hpp>

namespace hs {

struct ResponseAccess {
  // A body elsewhere (Response::send_file, send_shared), taken for sending.
  static std::shared_ptr<const OpenFile> take_file(Response& r) noexcept {
    return std::move(r.file_);
  }
  static uint64_t file_offset(const Response& r) noexcept { return r.file_offset_; }
  static std::shared_ptr<const std::string> take_shared(Response& r) noexcept {
    return std::move(r.shared_body_);
  }
};

}  // namespace hs
