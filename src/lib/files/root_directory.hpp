// RootDirectory: the served directory, and opening names beneath it and nowhere else.
//
// The root is opened once (O_PATH): renaming or replacing the directory named on the command
// line later does not move what is served. Each name is then resolved relative to that
// descriptor, by the kernel where it can (openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
// Linux 5.6 and later), else by a checked walk: one openat per component with O_NOFOLLOW,
// symbolic links read and followed by hand. Both refuse, with EXDEV, a name that would leave
// the root: ".." above it, an absolute symlink, a symlink whose ".." climbs out. Symlinks that
// stay beneath the root are followed. At most 40 links per name (ELOOP beyond), as the kernel.
//
// Files are opened read-only, close-on-exec, non-blocking and without becoming a controlling
// terminal: a FIFO opens at once instead of waiting for a writer (and is refused by its type
// afterwards, as is anything but a regular file or a directory). Thread-safe: const, and the
// descriptor is only read.
#pragma once

#include <string>
#include <string_view>

#include "../unique_fd.hpp"

namespace hs::static_files {

class RootDirectory {
 public:
  enum class Resolution {
    automatic,  // openat2 when the kernel (and a seccomp filter) allows it, else the walk
    openat2,    // openat2 only; ENOSYS where the kernel lacks it
    walk,       // the checked component walk: what kernels before 5.6 get (for tests)
  };

  // Opens `path`; throws std::system_error naming it when it is not a directory we may open.
  explicit RootDirectory(const std::string& path, Resolution how = Resolution::automatic);

  // Opens `relative` (no leading slash; "" is the root itself) beneath the root. Returns the
  // descriptor, or -errno: ENOENT, ENOTDIR, EACCES, EXDEV (leaves the root), ELOOP, ...
  // `relative` is a std::string so that it ends in the NUL the system calls need.
  int open(const std::string& relative) const noexcept;

  bool uses_openat2() const noexcept { return use_openat2_; }
  int fd() const noexcept { return fd_.get(); }

 private:
  int open_walk(const std::string& relative) const noexcept;

  UniqueFd fd_;
  bool use_openat2_ = false;
};

}  // namespace hs::static_files
