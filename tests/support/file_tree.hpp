// FileTree: a scratch directory of files, directories, symlinks and FIFOs for the files
// handler's tests, removed with everything in it when the test ends.
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hs::test {

class FileTree {
 public:
  FileTree() {
    std::string templ = "/tmp/hs-files-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = templ;
  }
  ~FileTree() {
    ::nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, FTW*) { return ::remove(p) == 0 ? 0 : 0; }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  FileTree(const FileTree&) = delete;
  FileTree& operator=(const FileTree&) = delete;

  const std::string& path() const { return path_; }
  std::string at(std::string_view relative) const { return path_ + "/" + std::string(relative); }

  // Writes `content` to `relative` (its directory must exist); sets the mtime when given.
  void write(std::string_view relative, std::string_view content, std::time_t mtime = 0) const {
    std::string p = at(relative);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("open " + p);
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (mtime != 0) set_mtime(relative, mtime);
  }
  void set_mtime(std::string_view relative, std::time_t mtime) const {
    timeval times[2] = {{mtime, 0}, {mtime, 0}};
    ::utimes(at(relative).c_str(), times);
  }
  // A sparse file of `size` bytes (ftruncate): a file over 4 GiB costs no disk.
  void sparse(std::string_view relative, off_t size) const {
    int fd = ::open(at(relative).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::ftruncate(fd, size) != 0) throw std::runtime_error("sparse file");
    ::close(fd);
  }
  void mkdir(std::string_view relative) const { ::mkdir(at(relative).c_str(), 0755); }
  void symlink(std::string_view target, std::string_view relative) const {
    if (::symlink(std::string(target).c_str(), at(relative).c_str()) != 0)
      throw std::runtime_error("symlink " + std::string(relative));
  }
  void fifo(std::string_view relative) const { ::mkfifo(at(relative).c_str(), 0644); }
  // A unix socket bound at `relative`; returns its descriptor, for the caller to close.
  int unix_socket(std::string_view relative) const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    at(relative).copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("bind " + std::string(relative));
    return fd;
  }

 private:
  std::string path_;
};

}  // namespace hs::test
