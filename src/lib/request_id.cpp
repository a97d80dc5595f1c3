#include "request_id.hpp"

#include <sys/random.h>

#include <cerrno>
#include <system_error>

namespace hs {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void hex64(char* out, uint64_t value) noexcept {
  for (int i = 15; i >= 0; --i, value >>= 4) out[i] = kHex[value & 0xf];
}

}  // namespace

RequestIds::RequestIds() {
  uint64_t prefix = 0;
  ssize_t n;
  do {
    n = ::getrandom(&prefix, sizeof prefix, 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof prefix))
    throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "getrandom");
  hex64(made_, prefix);
  hex64(made_ + 16, 0);
}

bool RequestIds::sane(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxBytes) return false;
  for (char c : id)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::string_view RequestIds::next() noexcept {
  // The counter's hex digits counted up in place, as an odometer: one digit changes 15 times
  // in 16, so the common id costs a few instructions rather than 16 digits' formatting.
  for (char* d = made_ + sizeof made_ - 1; d >= made_ + 16; --d) {
    if (*d == 'f') {
      *d = '0';
      continue;
    }
    *d = *d == '9' ? 'a' : static_cast<char>(*d + 1);
    break;
  }
  return {made_, sizeof made_};
}

}  // namespace hs
