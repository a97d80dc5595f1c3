// The library never raises SIGPIPE in a host: this program keeps SIGPIPE's default action
// (which kills the process), and a log reader that went away (a pipe, a socket) and clients
// that vanish while their responses are written must be error codes, never the host's death.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <httpserver/log.hpp>

#include "test_server.hpp"

namespace hs::test {
namespace {

class SigpipeDefault : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(::signal(SIGPIPE, SIG_DFL), SIG_ERR); }
};

TEST_F(SigpipeDefault, ALogPipeWhoseReaderWentAwayDropsItsLines) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  ::close(ends[0]);  // the reader is gone
  {
    Logger log(ends[1], {});
    log.info("uri: ", "/a");
    log.info("uri: ", "/b");
    log.flush();  // EPIPE: with SIGPIPE raised, this process would end here
    EXPECT_EQ(log.dropped(), 2u);
  }
  ::close(ends[1]);
}

TEST_F(SigpipeDefault, ALogSocketWhosePeerWentAwayDropsItsLines) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0);
  ::close(ends[0]);
  {
    Logger log(ends[1], {});
    log.info("uri: ", "/a");
    log.flush();
    EXPECT_EQ(log.dropped(), 1u);
  }
  ::close(ends[1]);
}

TEST_F(SigpipeDefault, ClientsThatVanishWhileAnsweredLeaveTheServerServing) {
  const std::string big(256 * 1024, 'x');
  TestServer server(TestServer::loopback(), [&big](const Request&, Response& r) { r.body = big; });
  for (int i = 0; i < 20; ++i) {
    Client c(server.port());
    std::string batch;
    for (int k = 0; k < 32; ++k) batch += "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    ASSERT_TRUE(c.send(batch));
    c.close();  // unread responses: the server's next sends fail with EPIPE or ECONNRESET
  }
  ParsedResponse r = roundtrip(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 5000);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_TRUE(server.shutdown());
}

}  // namespace
}  // namespace hs::test
