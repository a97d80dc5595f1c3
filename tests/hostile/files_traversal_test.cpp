// Traversal and symlink attempts against a served root with secrets beside it.
//
// The tree: WORK/secret.txt and WORK/root2/secret2.txt beside the served WORK/root/, which
// holds an ok.txt and symlinks that lead out in every way a link can. Each target is sent raw
// (no client normalises it) to the httpserver binary (--root, openat2 on this kernel) and to
// an in-process server whose handler resolves by the checked component walk (the fallback of
// kernels before 5.6). Each answer must be the expected 4xx, carry no byte of a secret, and
// leave the connection usable: ok.txt follows on it, 200. The number of cases is printed as a
// FIGURE line.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <httpserver/files.hpp>

#include "blackbox.hpp"
#include "file_tree.hpp"
#include "test_server.hpp"

namespace {

constexpr std::string_view kSecret = "TOPSECRET-4b1d";
constexpr std::string_view kSecret2 = "SIBLINGSECRET-9c2e";

struct Attempt {
  std::string target;
  int status;  // what the server answers; the codec's own 400s close the connection
  bool connection_goes_on = true;
};

// Every way out we could think of. 400: refused by the path's spelling; 404: a name that
// does not exist beneath the root (links out of it included); 403: not a regular file.
std::vector<Attempt> attempts() {
  std::vector<Attempt> a = {
      // ".." in every spelling
      {"/../secret.txt", 400},
      {"/../../secret.txt", 400},
      {"/sub/../../secret.txt", 400},
      {"/./../secret.txt", 400},
      {"//../secret.txt", 400},
      {"/%2e%2e/secret.txt", 400},
      {"/%2E%2E/secret.txt", 400},
      {"/.%2e/secret.txt", 400},
      {"/%2e./secret.txt", 400},
      {"/sub/%2e%2e/%2e%2e/secret.txt", 400},
      {"/..%2fsecret.txt", 400},
      {"/..%2Fsecret.txt", 400},
      {"/%2e%2e%2fsecret.txt", 400},
      {"/sub%2f..%2f..%2fsecret.txt", 400},
      {"/..%5csecret.txt", 400},
      {"/..%5Csecret.txt", 400},
      {"/%2e%2e%5csecret.txt", 400},
      {"/../root2/secret2.txt", 400},
      {"/..?x=/secret.txt", 400},
      {"/..#/secret.txt", 400},
      {"http://localhost/../secret.txt", 400},  // absolute form
      // NUL and broken escapes
      {"/ok.txt%00.html", 400},
      {"/%00", 400},
      {"/..%00/secret.txt", 400},
      {"/%", 400},
      {"/%2", 400},
      {"/%zz", 400},
      {"/%%32%65%%32%65/secret.txt", 400},
      // spellings that decode to other names, which do not exist
      {"/%252e%252e/secret.txt", 404},          // double encoding: a name "%2e%2e"
      {"/%c0%ae%c0%ae/secret.txt", 404},        // overlong UTF-8 is not '.'
      {"/%ef%bc%8e%ef%bc%8e/secret.txt", 404},  // fullwidth full stops
      {"/...//secret.txt", 404},
      {"/secret.txt", 404},
      {"/root2/secret2.txt", 404},
      // symlinks that leave the root
      {"/link_out", 404},
      {"/link_abs", 404},
      {"/sub/link_out2", 404},
      {"/link_up/secret.txt", 404},
      {"/link_up/root2/secret2.txt", 404},
      {"/link_up/", 404},
      {"/link_zigzag_out", 404},
      {"/link_root/etc/passwd", 404},
      {"/link_etc_passwd", 404},
      {"/link_proc", 404},
      {"/link_proc_cwd/secret.txt", 404},
      {"/link_dir_out/secret.txt", 404},
      {"/link_sibling", 404},
      {"/loop1", 404},
      {"/sub/link_chain_out", 404},
      // not regular files
      {"/fifo", 403},
      {"/sock", 403},
      {"/null", 403},
      // the request line itself broken: the codec's 400, which closes
      {"/..\\secret.txt", 400, false},
      {"../secret.txt", 400, false},
  };
  return a;
}

class FilesTraversal : public ::testing::Test {
 protected:
  void SetUp() override {
    t.write("secret.txt", kSecret);
    t.mkdir("root2");
    t.write("root2/secret2.txt", kSecret2);
    t.mkdir("root");
    t.write("root/ok.txt", "ok");
    t.mkdir("root/sub");
    t.write("root/sub/inside.txt", "inside");
    t.symlink("../secret.txt", "root/link_out");
    t.symlink(t.at("secret.txt"), "root/link_abs");
    t.symlink("../../secret.txt", "root/sub/link_out2");
    t.symlink("..", "root/link_up");
    t.symlink("sub/../../secret.txt", "root/link_zigzag_out");
    t.symlink("/", "root/link_root");
    t.symlink("/etc/passwd", "root/link_etc_passwd");
    t.symlink("/proc/self/root/etc/passwd", "root/link_proc");
    t.symlink("/proc/self/cwd", "root/link_proc_cwd");
    t.symlink(t.path(), "root/link_dir_out");
    t.symlink("../root2/secret2.txt", "root/link_sibling");
    t.symlink("loop2", "root/loop1");
    t.symlink("loop1", "root/loop2");
    t.symlink("../link_out", "root/sub/link_chain_out");
    t.fifo("root/fifo");
    sock = t.unix_socket("root/sock");
    // A character device (/dev/null's numbers) where we may make one; a FIFO stands in.
    if (::mknod(t.at("root/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) t.fifo("root/null");
  }
  void TearDown() override { ::close(sock); }

  // Sends every attempt on connections to `port`; returns the number that behaved.
  int run_all(uint16_t port, const char* who) {
    int passed = 0;
    for (const Attempt& a : attempts()) {
      hs::test::Client c(port);
      std::string request = "GET " + a.target + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
      EXPECT_TRUE(c.send(request)) << who << " " << a.target;
      hs::test::ParsedResponse r = c.read_response(3000);
      bool ok = r.status == a.status;
      EXPECT_EQ(r.status, a.status) << who << " " << a.target;
      for (std::string_view secret : {kSecret, kSecret2, std::string_view("root:x:0:0")}) {
        bool leaked = r.raw.find(secret) != std::string::npos;
        EXPECT_FALSE(leaked) << who << " " << a.target;
        ok &= !leaked;
      }
      if (a.connection_goes_on) {
        c.send("GET /ok.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
        hs::test::ParsedResponse next = c.read_response(3000);
        EXPECT_EQ(next.status, 200) << who << " after " << a.target;
        EXPECT_EQ(next.body, "ok") << who << " after " << a.target;
        ok &= next.status == 200 && next.body == "ok";
      }
      passed += ok;
    }
    return passed;
  }

  hs::test::FileTree t;
  int sock = -1;
};

TEST_F(FilesTraversal, TheBinaryWithOpenat2ServesNothingOutsideTheRoot) {
  std::string why;
  auto server = bb::ServerProcess::start({{"--root", t.at("root")}}, &why);
  ASSERT_TRUE(server) << why;
  int passed = run_all(server->port(), "openat2");
  std::printf("FIGURE: files traversal cases (binary, openat2): %d of %zu refused as expected\n",
              passed, attempts().size());
  EXPECT_TRUE(server->running());
}

TEST_F(FilesTraversal, TheCheckedWalkServesNothingOutsideTheRoot) {
  hs::FileOptions walk;
  walk.use_openat2 = false;
  hs::test::TestServer server(hs::test::TestServer::loopback(), hs::files(t.at("root"), walk));
  int passed = run_all(server.port(), "walk");
  std::printf(
      "FIGURE: files traversal cases (library, checked walk): %d of %zu refused as expected\n",
      passed, attempts().size());
}

}  // namespace
