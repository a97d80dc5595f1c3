#include "chunked_decoder.hpp"

#include <algorithm>
#include <cstring>

#include "token.hpp"

namespace hs {

namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

void ChunkedDecoder::start(const Limits& limits) noexcept {
  *this = ChunkedDecoder{};
  limits_ = limits;
}

// Every byte of framing but the trailer section's: the budgets of the message and of the
// chunk-size line it may belong to.
ChunkedDecoder::Result ChunkedDecoder::framing_byte() noexcept {
  if (++framing_ > limits_.max_body + kFramingAllowance) return Result::body_too_large;
  if (state_ <= State::size_lf) {
    if (++line_ > limits_.max_line) return Result::line_too_long;
    if (state_ == State::before_ext || state_ == State::ext) {
      if (++extensions_ > limits_.max_extensions) return Result::extensions_too_large;
    }
  }
  return Result::more;
}

ChunkedDecoder::Result ChunkedDecoder::decode(char* data, size_t& in, size_t end,
                                              size_t& out) noexcept {
  while (in < end) {
    if (state_ == State::data) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(size_, end - in));
      if (out != in) std::memmove(data + out, data + in, n);
      in += n;
      out += n;
      body_ += n;
      size_ -= n;
      if (size_ == 0) state_ = State::data_cr;
      continue;
    }
    const char c = data[in];
    if (state_ >= State::trailer_start && state_ <= State::end_lf) {
      if (++trailer_ > limits_.max_trailer) return Result::trailers_too_large;
    } else if (Result r = framing_byte(); r != Result::more) {
      return r;
    }
    switch (state_) {
      case State::size_first:
      case State::size: {
        int v = hex_digit_value(c);
        if (v >= 0) {
          if (size_ != 0 || v != 0) {
            if (++digits_ > 16) return Result::bad;  // no 64-bit number: not a size
            size_ = size_ * 16 + static_cast<uint64_t>(v);
          }
          state_ = State::size;
          break;
        }
        if (state_ == State::size_first) return Result::bad;
        if (size_ > limits_.max_body - body_) return Result::body_too_large;
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == ';') {
          state_ = State::ext;
        } else if (is_ws(c)) {
          state_ = State::before_ext;  // BWS, only before a ';'
        } else {
          return Result::bad;
        }
        break;
      }
      case State::before_ext:
        if (c == ';') {
          state_ = State::ext;
        } else if (!is_ws(c)) {
          return Result::bad;
        }
        break;
      case State::ext:
        // Names, values and quoted strings are not interpreted; what matters for framing is
        // that the line holds no CR, LF or other control byte but its CRLF.
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (!is_field_byte(c)) {
          return Result::bad;
        }
        break;
      case State::size_lf:
        if (c != '\n') return Result::bad;
        if (size_ == 0) {
          state_ = State::trailer_start;  // the last chunk
        } else {
          state_ = State::data;
        }
        digits_ = 0;
        line_ = 0;
        break;
      case State::data_cr:
        if (c != '\r') return Result::bad;
        state_ = State::data_lf;
        break;
      case State::data_lf:
        if (c != '\n') return Result::bad;
        state_ = State::size_first;
        size_ = 0;
        break;
      case State::trailer_start:
        if (c == '\r') {
          state_ = State::end_lf;
        } else if (is_tchar(c)) {
          state_ = State::trailer_name;  // no obs-fold, no whitespace before the name
        } else {
          return Result::bad;
        }
        break;
      case State::trailer_name:
        if (c == ':') {
          state_ = State::trailer_value;
        } else if (!is_tchar(c)) {
          return Result::bad;
        }
        break;
      case State::trailer_value:
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else if (!is_field_byte(c)) {
          return Result::bad;
        }
        break;
      case State::trailer_lf:
        if (c != '\n') return Result::bad;
        state_ = State::trailer_start;
        break;
      case State::end_lf:
        if (c != '\n') return Result::bad;
        ++in;
        return Result::done;
      case State::data:
        break;  // handled above
    }
    ++in;
  }
  return Result::more;
}

}  // namespace hs
