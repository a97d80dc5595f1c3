#include "files/root_directory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

#include <cerrno>
#include <string>
#include <system_error>

#include "file_tree.hpp"

namespace hs::static_files {
namespace {

using Resolution = RootDirectory::Resolution;

// outside/secret.txt beside the served outside/root/.
class RootDirectoryTest : public ::testing::TestWithParam<Resolution> {
 protected:
  void SetUp() override {
    t.write("secret.txt", "SECRET");
    t.mkdir("root");
    t.write("root/a.txt", "A");
    t.mkdir("root/sub");
    t.mkdir("root/sub/deeper");
    t.write("root/sub/b.txt", "B");
    t.write("root/sub/deeper/c.txt", "C");
    t.symlink("sub/b.txt", "root/link_in");
    t.symlink("sub", "root/link_dir");
    t.symlink("../a.txt", "root/sub/link_parent");
    t.symlink("deeper/../../a.txt", "root/sub/link_zigzag");
    t.symlink("link_in", "root/link_to_link");
    t.symlink("../secret.txt", "root/link_out");
    t.symlink(t.at("secret.txt"), "root/link_abs");
    t.symlink("../../secret.txt", "root/sub/link_out2");
    t.symlink("..", "root/link_up");
    t.symlink("sub/../../secret.txt", "root/link_zigzag_out");
    t.symlink("loop2", "root/loop1");
    t.symlink("loop1", "root/loop2");
    t.symlink("/proc/self/root/etc/passwd", "root/magic");
    t.fifo("root/fifo");
  }

  // The contents of `name` opened beneath the root, or "errno:N".
  std::string read(const std::string& name) {
    RootDirectory root(t.at("root"), GetParam());
    int fd = root.open(name);
    if (fd < 0) return "errno:" + std::to_string(-fd);
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n < 0 ? "read-errno:" + std::to_string(errno) : std::string(buf, static_cast<size_t>(n));
  }

  test::FileTree t;
};

// Asked directly, not through RootDirectory's own probe.
bool kernel_has_openat2() {
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  if (fd < 0) return false;
  ::close(static_cast<int>(fd));
  return true;
#else
  return false;
#endif
}

TEST_P(RootDirectoryTest, OpensFilesAndDirectoriesBeneathTheRoot) {
  EXPECT_EQ(read("a.txt"), "A");
  EXPECT_EQ(read("sub/b.txt"), "B");
  EXPECT_EQ(read("sub//deeper/./c.txt"), "C");
  EXPECT_EQ(read("sub/deeper/../b.txt"), "B");  // ".." that stays inside
  RootDirectory root(t.at("root"), GetParam());
  for (std::string dir : {"", "sub", "sub/", "link_dir/"}) {
    int fd = root.open(dir);
    ASSERT_GE(fd, 0) << dir;
    struct stat st;
    ASSERT_EQ(::fstat(fd, &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << dir;
    ::close(fd);
  }
  // Automatic takes openat2 where this kernel has it (qemu-user, for one, has not).
  EXPECT_EQ(root.uses_openat2(), GetParam() != Resolution::walk && kernel_has_openat2());
}

TEST_P(RootDirectoryTest, FollowsSymlinksThatStayInside) {
  EXPECT_EQ(read("link_in"), "B");
  EXPECT_EQ(read("link_to_link"), "B");
  EXPECT_EQ(read("link_dir/b.txt"), "B");
  EXPECT_EQ(read("sub/link_parent"), "A");
  EXPECT_EQ(read("sub/link_zigzag"), "A");
  EXPECT_EQ(read("link_dir/../a.txt"), "A");  // ".." after a link: the link's parent
}

TEST_P(RootDirectoryTest, RefusesEveryWayOut) {
  const std::string exdev = "errno:" + std::to_string(EXDEV);
  EXPECT_EQ(read("../secret.txt"), exdev);
  EXPECT_EQ(read("sub/../../secret.txt"), exdev);
  EXPECT_EQ(read("link_out"), exdev);
  EXPECT_EQ(read("link_abs"), exdev);  // absolute, even though it names a real file
  EXPECT_EQ(read("sub/link_out2"), exdev);
  EXPECT_EQ(read("link_up/secret.txt"), exdev);
  EXPECT_EQ(read("link_zigzag_out"), exdev);
  EXPECT_EQ(read("link_dir/../../secret.txt"), exdev);
  EXPECT_EQ(read("magic"), exdev);  // absolute first, magic second
  EXPECT_EQ(read("loop1"), "errno:" + std::to_string(ELOOP));
  EXPECT_EQ(read("missing"), "errno:" + std::to_string(ENOENT));
  EXPECT_EQ(read("a.txt/x"), "errno:" + std::to_string(ENOTDIR));
}

TEST_P(RootDirectoryTest, OpensAFifoWithoutWaitingForAWriter) {
  // Blocking here would hang the test (and a server's loop): O_NONBLOCK makes it return.
  RootDirectory root(t.at("root"), GetParam());
  int fd = root.open("fifo");
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ::close(fd);
}

TEST_P(RootDirectoryTest, TheRootIsHeldOpenNotLookedUpAgain) {
  RootDirectory root(t.at("root"), GetParam());
  ASSERT_EQ(::rename(t.at("root").c_str(), t.at("moved").c_str()), 0);
  t.mkdir("root");
  t.write("root/a.txt", "NEW");
  int fd = root.open("a.txt");
  ASSERT_GE(fd, 0);
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'A');
  ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(BothResolutions, RootDirectoryTest,
                         ::testing::Values(Resolution::automatic, Resolution::walk),
                         [](const auto& info) {
                           return info.param == Resolution::walk ? "walk" : "openat2";
                         });

TEST(RootDirectory, ARootThatIsNotADirectoryIsAnErrorAtStartUp) {
  test::FileTree t;
  t.write("file", "x");
  EXPECT_THROW(RootDirectory(t.at("file")), std::system_error);
  EXPECT_THROW(RootDirectory(t.at("missing")), std::system_error);
}

}  // namespace
}  // namespace hs::static_files
