#include "root_directory.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <vector>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

namespace hs::static_files {

namespace {

constexpr int kFileFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
constexpr int kMaxLinks = 40;  // the kernel's MAXSYMLINKS

#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
int call_openat2(int dir, const char* name, int flags) noexcept {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, dir, name, &how, sizeof how));
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}
#else
int call_openat2(int, const char*, int) noexcept { return -ENOSYS; }
#endif

}  // namespace

RootDirectory::RootDirectory(const std::string& path, Resolution how)
    : fd_(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "open root " + path);
  if (how == Resolution::walk) return;
  // Probed once: ENOSYS on kernels before 5.6, EPERM under a seccomp filter that predates the
  // call (container runtimes' older default profiles).
  int probe = call_openat2(fd_.get(), ".", O_PATH | O_CLOEXEC);
  if (probe >= 0) ::close(probe);
  use_openat2_ = probe >= 0 || how == Resolution::openat2;
}

int RootDirectory::open(const std::string& relative) const noexcept {
  if (!use_openat2_) return open_walk(relative);
  return call_openat2(fd_.get(), relative.empty() ? "." : relative.c_str(), kFileFlags);
}

// The walk keeps the directories it went through, so that a ".." from a symlink's target
// goes back one of them, and going back past the first is leaving the root.
int RootDirectory::open_walk(const std::string& relative) const noexcept {
  std::vector<UniqueFd> below;  // the directories entered, the deepest last
  std::string pending;          // what is left to resolve when symlinks spliced it
  std::string_view rest = relative;
  int links = 0;
  char name[NAME_MAX + 1];
  auto here = [&] { return below.empty() ? fd_.get() : below.back().get(); };
  while (true) {
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    if (rest.empty()) {  // the name ends in a directory: open that one
      int fd = ::openat(here(), ".", kFileFlags);
      return fd < 0 ? -errno : fd;
    }
    size_t end = rest.find('/');
    std::string_view component = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    bool last = rest.find_first_not_of('/') == std::string_view::npos;
    if (component == ".") continue;
    if (component == "..") {
      if (below.empty()) return -EXDEV;
      below.pop_back();
      continue;
    }
    if (component.size() > NAME_MAX) return -ENAMETOOLONG;
    std::memcpy(name, component.data(), component.size());
    name[component.size()] = '\0';
    // A symlink fails both opens with O_NOFOLLOW: ELOOP for the last component, ENOTDIR as a
    // directory (O_PATH alone would open the link itself).
    int fd = last ? ::openat(here(), name, kFileFlags | O_NOFOLLOW)
                  : ::openat(here(), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      if (last) return fd;
      below.emplace_back(fd);
      continue;
    }
    int error = errno;
    if (error != ELOOP && error != ENOTDIR) return -error;
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(here(), name, target, sizeof target);
    if (n < 0) return -error;  // EINVAL: not a link after all, the first error stands
    if (n == static_cast<ssize_t>(sizeof target)) return -ENAMETOOLONG;
    if (++links > kMaxLinks) return -ELOOP;
    if (n == 0 || target[0] == '/') return -EXDEV;  // absolute: resolved from outside the root
    std::string spliced(target, static_cast<size_t>(n));
    spliced.append(rest);
    pending = std::move(spliced);
    rest = pending;
  }
}

}  // namespace hs::static_files
