// Size limits (RFC 9110 sections 15.5.14, 15.5.15, RFC 6585 section 5): a request-target,
// header section or body over its limit is answered with 414, 431 or 413 and the connection
// closed; the handler never sees it and the server keeps serving.
#include <gtest/gtest.h>

#include <string>

#include "integration_support.hpp"

namespace hs::test {
namespace {

class SizeLimits : public ::testing::Test {
 protected:
  static ServerOptions options() {
    ServerOptions o = TestServer::loopback();
    o.limits.max_target_bytes = 256;
    o.limits.max_header_bytes = 1024;
    o.limits.max_body_bytes = 1000;
    return o;
  }
  void TearDown() override {
    EXPECT_EQ(recorder_.calls(), handled_);
    expect_clean_shutdown(server_);
  }
  void rejects(std::string_view request, int status) {
    expect_rejected(server_, request, status);
    ++handled_;  // the GET of expect_still_serving
  }
  void accepts(const std::string& request) {
    ParsedResponse r = roundtrip(server_.port(), request);
    EXPECT_EQ(r.status, 200) << r.raw;
    ++handled_;
  }

  Recorder recorder_;
  TestServer server_{options(), recorder_.handler()};
  size_t handled_ = 0;
};

TEST_F(SizeLimits, AnswersARequestTargetOverTheLimitWith414) {
  accepts("GET /" + std::string(255, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n");
  rejects("GET /" + std::string(256, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414);
}

TEST_F(SizeLimits, AnswersAVeryLongRequestTargetWith414BeforeItEnds) {
  // Far beyond the read buffer: rejected without waiting for the end of the line.
  rejects("GET /" + std::string(100'000, 'a'), 414);
}

TEST_F(SizeLimits, AnswersAHeaderSectionOverTheLimitWith431) {
  accepts("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(500, 'v') + "\r\n\r\n");
  rejects("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(1100, 'v') + "\r\n\r\n", 431);
}

TEST_F(SizeLimits, AnswersManySmallFieldsOverTheLimitWith431) {
  std::string request = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 60; ++i) request += "X-" + std::to_string(i) + ": vvvvvvvvvv\r\n";
  rejects(request + "\r\n", 431);
}

TEST_F(SizeLimits, AnswersAnEndlessHeaderSectionWith431) {
  rejects("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(200'000, 'v'), 431);
}

TEST_F(SizeLimits, AnswersAContentLengthOverTheLimitWith413) {
  accepts("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b'));
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n" + std::string(1001, 'b'),
          413);
}

TEST_F(SizeLimits, AnswersAHugeContentLengthWith413WithoutWaitingForTheBody) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 413);
}

TEST_F(SizeLimits, AnswersAChunkedBodyOverTheLimitWith413) {
  std::string chunk = "1f4\r\n" + std::string(500, 'c') + "\r\n";  // 500 bytes
  accepts("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
          "0\r\n\r\n");
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
              "1\r\nc\r\n0\r\n\r\n",
          413);
}

TEST_F(SizeLimits, AnswersOneHugeChunkWith413) {
  rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffff\r\n" +
              std::string(5000, 'c'),
          413);
}

// No limit of its own on the number of fields: the header bytes bound it. Each "X: v" field
// counts 6 bytes (name, value, ": " and CRLF), so 1,300 of them fit the default 8 KiB and
// 1,400 do not. nginx and Go serve hundreds of small fields; so do we.
TEST(FieldCount, IsBoundedByTheHeaderBytesAlone) {
  auto head = [](size_t fields) {
    std::string h = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (size_t i = 1; i < fields; ++i) h += "X: v\r\n";
    return h + "\r\n";
  };
  // The handler answers with the number of fields it was given.
  TestServer server(TestServer::loopback(), [](const Request& request, Response& response) {
    response.body = std::to_string(request.headers().size());
  });
  for (size_t fields : {101, 200, 1300}) {
    ParsedResponse r = roundtrip(server.port(), head(fields));
    EXPECT_EQ(r.status, 200) << fields << " fields";
    EXPECT_EQ(r.body, std::to_string(fields));
  }
  expect_rejected(server, head(1400), 431);
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
