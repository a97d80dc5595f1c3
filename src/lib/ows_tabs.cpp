#include "ows_tabs.hpp"

#include <string_view>

namespace hs {

bool OwsTabs::special_name() const noexcept {
  if (name_length_ > kLongestName) return false;
  std::string_view name(name_, name_length_);
  return name == "content-length" || name == "transfer-encoding" || name == "connection" ||
         name == "proxy-connection" || name == "upgrade";
}

void OwsTabs::feed(char* p, const char* end) noexcept {
  for (; p < end && state_ != State::done; ++p) {
    char c = *p;
    switch (state_) {
      case State::before_request_line:
        if (c != '\r' && c != '\n') state_ = State::request_line;
        break;
      case State::request_line:
      case State::value:
        if (c == '\n') state_ = State::line_start;
        break;
      case State::special_value:
        if (c == '\t') *p = ' ';
        if (c == '\n') state_ = State::line_start;
        break;
      case State::line_start:
        if (c == '\r') {
          state_ = State::blank_line;
        } else if (c == '\n') {
          state_ = State::done;  // a bare LF ends the head for llhttp (and is refused later)
        } else {
          state_ = State::name;
          name_length_ = 0;
          --p;  // the same byte again, as the name's first
        }
        break;
      case State::name:
        if (c == ':') {
          state_ = special_name() ? State::special_value : State::value;
        } else if (c == '\n') {
          state_ = State::line_start;
        } else if (name_length_ < kLongestName) {
          name_[name_length_++] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        } else {
          name_length_ = kLongestName + 1;
        }
        break;
      case State::blank_line:
        state_ = State::done;  // LF or not, the head ends here for llhttp
        break;
      case State::done:
        break;
    }
  }
}

}  // namespace hs
