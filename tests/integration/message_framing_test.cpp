// Message framing (RFC 9112 section 6): a request whose body length is ambiguous or invalid
// is answered with 400 and the connection closed, because the server cannot tell where the
// next request starts (request smuggling). The server keeps serving new connections.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace hs::test {
namespace {

class MessageFraming : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_EQ(recorder_.calls(), handled_);  // no ambiguous request reached the handler
    expect_clean_shutdown(server_);
  }
  void rejects(std::string_view request, int status) {
    SCOPED_TRACE(testing::Message() << "request: " << testing::PrintToString(std::string(request)));
    expect_rejected(server_, request, status);
    ++handled_;  // the GET of expect_still_serving
  }

  Recorder recorder_;
  TestServer server_{TestServer::loopback(), recorder_.handler()};
  size_t handled_ = 0;
};

TEST_F(MessageFraming, AnswersContentLengthWithTransferEncodingWith400) {
  rejects(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n",
      400);
  rejects(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
      "0\r\n\r\n",
      400);
}

TEST_F(MessageFraming, AnswersTwoDifferentContentLengthsWith400) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", 400);
}

TEST_F(MessageFraming, AnswersAContentLengthListWith400) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 5\r\n\r\nabcde", 400);
}

TEST_F(MessageFraming, AnswersANonNumericContentLengthWith400) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400);
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", 400);
}

TEST_F(MessageFraming, AnswersATransferEncodingNotEndingInChunkedWith400) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400);
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400);
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400);
}

TEST_F(MessageFraming, AnswersAChunkSizeThatOverflowsWith400) {
  rejects(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "fffffffffffffffff\r\nabc\r\n0\r\n\r\n",
      400);
  rejects(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10000000000000001\r\nabc\r\n0\r\n\r\n",
      400);
}

TEST_F(MessageFraming, AnswersAnInvalidChunkSizeWith400) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
          400);
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n0\r\n\r\n",
          400);
}

TEST_F(MessageFraming, AnswersChunkDataLongerThanItsSizeWith400) {
  rejects(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nabcd\r\n0\r\n\r\n",
      400);
}

TEST_F(MessageFraming, AnswersABareLfInTheChunkedTrailerWith400) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\n", 400);
}

}  // namespace
}  // namespace hs::test
