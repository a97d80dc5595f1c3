#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <httpserver/http.hpp>

#include "unique_fd.hpp"

namespace hs {

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::shared_ptr<const OpenFile> OpenFile::in_memory(std::string_view bytes) {
  UniqueFd fd(::memfd_create("httpserver-body", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw std::system_error(errno, std::generic_category(), "memfd_create");
  for (size_t written = 0; written < bytes.size();) {
    ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "memfd write");
    written += static_cast<size_t>(n);
  }
  // Sealed: nothing can change the bytes a response is sending, or its length, any more.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    throw std::system_error(errno, std::generic_category(), "seal a memfd");
  return std::make_shared<const OpenFile>(fd.release());
}

}  // namespace hs
