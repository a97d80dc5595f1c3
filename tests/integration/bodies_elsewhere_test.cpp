// Bodies sent from where they lie (Response::send_file, send_shared, OpenFile::in_memory): the
// bytes the client gets are the file's range or the shared string, framed by Content-Length, in
// order behind and ahead of pipelined responses, through a slow reader, with HEAD sending the head
// only; a file that shrinks while it is sent ends the connection short, never padded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "integration_support.hpp"

namespace hs::test {
namespace {

// A temporary file holding `content`, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/hs-elsewhere-XXXXXX";
    int fd = ::mkstemp(name);
    path_ = name;
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  std::shared_ptr<const OpenFile> open() const {
    return std::make_shared<OpenFile>(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(BodiesElsewhere, AFileRangeIsSentWithItsLengthAndPipelinedResponsesKeepTheirOrder) {
  const std::string content = pattern(300 * 1024);
  TempFile file(content);
  auto open = file.open();
  TestServer server(TestServer::loopback(), [&](const Request& q, Response& r) {
    if (q.target() == "/file") return r.send_file(open, 0, content.size());
    if (q.target() == "/range") return r.send_file(open, 1000, 5000);
    r.body.assign(q.target());
  });
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /file HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /range HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse a = c.read_response();
  ParsedResponse whole = c.read_response();
  ParsedResponse range = c.read_response();
  ParsedResponse b = c.read_response();
  EXPECT_EQ(a.body, "/a");
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("content-length"), std::to_string(content.size()));
  EXPECT_TRUE(whole.body == content) << "the file's bytes differ";
  EXPECT_EQ(range.body, content.substr(1000, 5000));
  EXPECT_EQ(b.body, "/b");
  EXPECT_EQ(server.stats().traffic.bytes_written > content.size(), true);
  expect_clean_shutdown(server);
}

TEST(BodiesElsewhere, ABodyInMemoryGoesOutAsAFileThatNothingCanChange) {
  const std::string content = pattern(1024 * 1024 + 17);
  std::shared_ptr<const OpenFile> file = OpenFile::in_memory(content);
  TestServer server(TestServer::loopback(), [&](const Request& q, Response& r) {
    if (q.target() == "/range") return r.send_file(file, 4096, 70'000);
    r.send_file(file, 0, content.size());
  });
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /range HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  for (int i = 0; i < 3; ++i) {
    ParsedResponse r = c.read_response();
    std::string want = i == 1 ? content.substr(4096, 70'000) : content;
    EXPECT_EQ(r.header("content-length"), std::to_string(want.size())) << i;
    EXPECT_TRUE(r.body == want) << "response " << i << ": the bytes differ";
  }
  // Sealed: the handler's bytes cannot be written over, grown or cut while responses send them.
  EXPECT_LT(::write(file->fd(), "x", 1), 0);
  EXPECT_LT(::ftruncate(file->fd(), 10), 0);
  EXPECT_EQ(::lseek(file->fd(), 0, SEEK_END), static_cast<off_t>(content.size()));
  EXPECT_EQ(OpenFile::in_memory("")->fd() >= 0, true);
  expect_clean_shutdown(server);
}

TEST(BodiesElsewhere, HeadGetsTheLengthOfTheBodyWithoutIt) {
  const std::string content = pattern(10'000);
  TempFile file(content);
  auto open = file.open();
  auto shared = std::make_shared<const std::string>(pattern(20'000));
  TestServer server(TestServer::loopback(), [&](const Request& q, Response& r) {
    if (q.target() == "/file") return r.send_file(open, 0, content.size());
    r.send_shared(shared);
  });
  Client c(server.port());
  ASSERT_TRUE(
      c.send("HEAD /file HTTP/1.1\r\nHost: a\r\n\r\nHEAD /mem HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /mem HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse f = c.read_response(3000, true);
  ParsedResponse m = c.read_response(3000, true);
  ParsedResponse g = c.read_response();
  EXPECT_EQ(f.header("content-length"), "10000");
  EXPECT_EQ(f.body, "");
  EXPECT_EQ(m.header("content-length"), "20000");
  EXPECT_EQ(m.body, "");
  EXPECT_TRUE(g.body == *shared);
  expect_clean_shutdown(server);
}

TEST(BodiesElsewhere, ASlowReaderGetsEveryByteOfLargeBodiesInOrder) {
  const std::string content = pattern(3 * 1024 * 1024 + 17);
  TempFile file(content);
  auto open = file.open();
  auto shared = std::make_shared<const std::string>(pattern(2 * 1024 * 1024 + 5));
  TestServer server(TestServer::loopback(), [&](const Request& q, Response& r) {
    if (q.target() == "/file") return r.send_file(open, 0, content.size());
    r.send_shared(shared);
  });
  Client c(server.port());
  int small = 16 * 1024;
  ASSERT_EQ(::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  ASSERT_TRUE(
      c.send("GET /file HTTP/1.1\r\nHost: a\r\n\r\nGET /mem HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /file HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse one = c.read_response(10000);
  ParsedResponse two = c.read_response(10000);
  ParsedResponse three = c.read_response(10000);
  EXPECT_TRUE(one.body == content);
  EXPECT_TRUE(two.body == *shared);
  EXPECT_TRUE(three.body == content);
  expect_clean_shutdown(server);
}

TEST(BodiesElsewhere, AFileThatShrinksWhileItIsSentEndsTheConnectionShort) {
  const std::string content = pattern(8 * 1024 * 1024);
  TempFile file(content);
  auto open = file.open();
  TestServer server(TestServer::loopback(), [&](const Request& q, Response& r) {
    if (q.target() == "/file") return r.send_file(open, 0, content.size());
    r.body.assign("still here");
  });
  Client c(server.port());
  int small = 16 * 1024;
  ASSERT_EQ(::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  ASSERT_TRUE(c.send("GET /file HTTP/1.1\r\nHost: a\r\n\r\nGET /file HTTP/1.1\r\nHost: a\r\n\r\n"));
  // The server is blocked on our small window: now the file loses most of its bytes.
  ASSERT_TRUE(eventually([&] { return server.stats().traffic.bytes_written > 0; }));
  ASSERT_EQ(::truncate(file.path().c_str(), 1024 * 1024), 0);
  std::string got = c.read_until_close(10000);
  size_t head_end = got.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  std::string body = got.substr(head_end + 4);
  // Short, and nothing after it: the client cannot take what follows for the rest of the body.
  // (What the kernel had queued from the file's pages before the truncation may read as the
  // truncation left them: sendfile sends the page cache as it is when the bytes leave.)
  EXPECT_LT(body.size(), content.size());
  EXPECT_TRUE(body.substr(0, 1024) == content.substr(0, 1024));
  EXPECT_EQ(got.find("HTTP/1.1 200", head_end), std::string::npos)
      << "the second response was sent as if the first were complete";
  EXPECT_EQ(roundtrip(server.port(), "GET /other HTTP/1.1\r\nHost: a\r\n\r\n").body, "still here");
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
