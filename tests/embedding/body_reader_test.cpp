// Request bodies read as they arrive: ServerOptions::stream_body picks the requests whose
// handler runs at the head, Response::read_body() hands the body to a BodyReader in pieces.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "test_server.hpp"

namespace hs::test {
namespace {

using namespace std::chrono_literals;

// What a reader saw, read back on the reactor's thread through TestServer::call().
struct Seen {
  std::string body;
  size_t pieces = 0;
  int ends = 0;
  int aborts = 0;
  int abort_status = -1;
};

// Keeps the body, answers "<bytes> <pieces>". Pauses after `pause_after` pieces (0: never)
// and says stop after `stop_after` (0: never).
class Keeper final : public BodyReader {
 public:
  Keeper(std::shared_ptr<Seen> seen, size_t pause_after = 0, size_t stop_after = 0)
      : seen_(std::move(seen)), pause_after_(pause_after), stop_after_(stop_after) {}
  Next data(std::string_view piece) override {
    seen_->body.append(piece);
    ++seen_->pieces;
    if (piece == "throw") throw std::runtime_error("reader failed");
    if (stop_after_ != 0 && seen_->pieces >= stop_after_) return Next::stop;
    if (pause_after_ != 0 && seen_->pieces == pause_after_) return Next::pause;
    return Next::more;
  }
  void end(Response& response) override {
    ++seen_->ends;
    response.status = 201;
    response.body = std::to_string(seen_->body.size()) + " " + std::to_string(seen_->pieces);
  }
  void abort(int status) noexcept override {
    ++seen_->aborts;
    seen_->abort_status = status;
  }

 private:
  std::shared_ptr<Seen> seen_;
  size_t pause_after_, stop_after_;
};

// Streams the bodies of requests to /upload into a Keeper (a fresh Seen per request, the last
// one in *latest); every other request is buffered and answered with its body's size.
struct Uploads {
  std::shared_ptr<std::shared_ptr<Seen>> latest = std::make_shared<std::shared_ptr<Seen>>();
  std::shared_ptr<std::shared_ptr<BodyReader>> reader =
      std::make_shared<std::shared_ptr<BodyReader>>();
  size_t pause_after = 0, stop_after = 0;

  ServerOptions options(size_t max_body = 1024) const {
    ServerOptions o = TestServer::loopback();
    o.limits.max_body_bytes = max_body;
    o.stream_body = [](const Request& head) { return head.path().starts_with("/upload"); };
    return o;
  }
  Handler handler() const {
    return [latest = latest, reader = reader, pause = pause_after, stop = stop_after](
               const Request& request, Response& response) {
      if (!request.body_pending()) {
        response.body = "buffered " + std::to_string(request.body().size());
        return;
      }
      if (request.path() == "/upload/refused") {
        response.status = 401;
        return;
      }
      *latest = std::make_shared<Seen>();
      *reader = std::make_shared<Keeper>(*latest, pause, stop);
      response.read_body(*reader);
    };
  }
};

std::string upload_head(size_t length, std::string_view extra = "") {
  return "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(length) + "\r\n" +
         std::string(extra) + "\r\n";
}

std::string pattern(size_t n) {
  std::string s(n, 0);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return s;
}

TEST(BodyReader, StreamsABodyFarPastMaxBodyBytesAndKeepsTheConnection) {
  Uploads u;
  TestServer server(u.options(1024), u.handler());
  Client c(server.port());
  std::string body = pattern(1 << 20);  // 1 MiB, against a 1 KiB max_body_bytes
  ASSERT_TRUE(c.send(upload_head(body.size()) + body));
  auto r = c.read_response(5000);
  ASSERT_EQ(r.status, 201);
  auto seen = server.call([&] { return **u.latest; });
  EXPECT_EQ(seen.body, body);   // every byte, in order
  EXPECT_GT(seen.pieces, 16u);  // in pieces as they came, not gathered
  EXPECT_EQ(r.body, std::to_string(body.size()) + " " + std::to_string(seen.pieces));
  EXPECT_EQ(seen.ends, 1);
  EXPECT_EQ(seen.aborts, 0);
  EXPECT_FALSE(r.has("connection"));
  // The same connection serves the next request, buffered as before.
  ASSERT_TRUE(c.send("POST /other HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"));
  EXPECT_EQ(c.read_response().body, "buffered 3");
}

TEST(BodyReader, StreamsAChunkedBodyDecoded) {
  Uploads u;
  TestServer server(u.options(16), u.handler());
  Client c(server.port());
  std::string wire, expected;
  for (int i = 0; i < 200; ++i) {
    std::string data = pattern(100 + i);
    expected += data;
    char size[16];
    std::snprintf(size, sizeof size, "%zx", data.size());
    wire += std::string(size) + (i % 3 == 0 ? ";ext=1" : "") + "\r\n" + data + "\r\n";
  }
  wire += "0\r\nTrailer-Field: x\r\n\r\n";
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(c.send(wire));
  auto r = c.read_response(5000);
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(server.call([&] { return (*u.latest)->body; }), expected);
  // Pipelined after it: served too.
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "buffered 0");
}

TEST(BodyReader, StreamsBodiesOfEverySizeByteForByteOnOneKeptAliveConnection) {
  Uploads u;
  TestServer server(u.options(1024), u.handler());
  Client c(server.port());
  // Around the read buffer (4 KiB) and the pieces the body is read in (64 KiB); with a
  // Content-Length, then chunked in 8 KiB chunks, each in one write and then in uneven pieces.
  const size_t sizes[] = {1, 1000, 4095, 4097, 65535, 65536, 65537, 300'000};
  const size_t pieces[] = {1, 17, 1000, 4096, 9000, 70'000};
  for (size_t size : sizes) {
    std::string body = pattern(size);
    std::string chunked;
    for (size_t at = 0; at < size; at += 8192) {
      std::string_view chunk = std::string_view(body).substr(at, 8192);
      char line[16];
      std::snprintf(line, sizeof line, "%zx\r\n", chunk.size());
      chunked += line + std::string(chunk) + "\r\n";
    }
    chunked += "0\r\n\r\n";
    const std::string requests[] = {
        upload_head(size) + body,
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked};
    for (const std::string& request : requests) {
      for (bool split : {false, true}) {
        if (!split) {
          ASSERT_TRUE(c.send(request));
        } else {
          size_t at = 0;
          for (size_t i = 0; at < request.size(); ++i) {
            size_t n = std::min(pieces[i % std::size(pieces)], request.size() - at);
            ASSERT_TRUE(c.send(std::string_view(request).substr(at, n)));
            at += n;
          }
        }
        auto r = c.read_response(5000);
        ASSERT_EQ(r.status, 201) << size << (split ? " split" : " whole");
        auto seen = server.call([&] { return **u.latest; });
        EXPECT_EQ(seen.body.size(), size);
        EXPECT_TRUE(seen.body == body) << size << ": the body differs";
        EXPECT_EQ(seen.ends, 1);
        EXPECT_FALSE(r.has("connection"));
      }
    }
  }
  EXPECT_FALSE(c.closed_by_peer(100));
}

TEST(BodyReader, ABodyTheServerDoesNotStreamIsBufferedWithinMaxBodyBytes) {
  Uploads u;
  TestServer server(u.options(1024), u.handler());
  EXPECT_EQ(roundtrip(server.port(), "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" +
                                         std::string(1000, 'b'))
                .body,
            "buffered 1000");
  auto big =
      roundtrip(server.port(), "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n" +
                                   std::string(2000, 'b'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(server.stats().requests, 1u);  // the handler never saw the 413's request
}

TEST(BodyReader, SendsOneHundredContinueOnlyWhenTheHandlerReadsTheBody) {
  Uploads u;
  TestServer server(u.options(), u.handler());
  {
    Client c(server.port());
    ASSERT_TRUE(c.send(upload_head(5, "Expect: 100-continue\r\n")));
    auto interim = c.read_response();
    EXPECT_EQ(interim.status, 100);
    ASSERT_TRUE(c.send("hello"));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "5 1");
  }
  {
    // Refused without reading: no 100 Continue, the answer closes the connection.
    Client c(server.port());
    ASSERT_TRUE(
        c.send("POST /upload/refused HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
               "Expect: 100-continue\r\n\r\n"));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Buffered (not /upload): the server wants the whole body, so it says continue.
    Client c(server.port());
    ASSERT_TRUE(
        c.send("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 100);
    ASSERT_TRUE(c.send("ok"));
    EXPECT_EQ(c.read_response().body, "buffered 2");
  }
}

TEST(BodyReader, APausedBodyIsNotReadUntilTheReaderResumes) {
  Uploads u;
  u.pause_after = 1;
  TestServer server(u.options(), u.handler());
  Client c(server.port());
  std::string body = pattern(32 << 20);  // far more than loopback's socket buffers hold
  ASSERT_TRUE(c.send(upload_head(body.size())));
  std::thread sender([&] { c.send(body); });
  std::this_thread::sleep_for(300ms);
  auto paused = server.call([&] { return (*u.latest)->pieces; });
  std::this_thread::sleep_for(300ms);
  // Nothing more was read: the count stands, and most of the body is still with the client.
  auto seen = server.call([&] { return **u.latest; });
  EXPECT_EQ(seen.pieces, paused);
  EXPECT_EQ(seen.pieces, 1u);
  EXPECT_LT(seen.body.size(), body.size() / 4);
  EXPECT_EQ(server.stats().timeouts, 0u);
  // Resumed through the function a reader hands to other code: the rest arrives.
  auto resume = server.call([&] { return (*u.reader)->resumer(); });
  server.call([&] {
    resume();
    return 0;
  });
  auto r = c.read_response(20000);
  sender.join();
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(server.call([&] { return (*u.latest)->body == body; }), true);
}

TEST(BodyReader, StopAnswersAtOnceAndClosesWithoutReadingTheRest) {
  Uploads u;
  u.stop_after = 1;
  TestServer server(u.options(), u.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send(upload_head(100000) + "first piece"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "11 1");
  EXPECT_EQ(r.header("connection"), "close");
  // The rest of the body is discarded, never parsed as a request.
  c.send(std::string(5000, 'x') + "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string rest = c.read_until_close(3000);
  EXPECT_EQ(rest.find("HTTP/1.1"), std::string::npos);
  EXPECT_EQ(server.call([&] { return (*u.latest)->aborts; }), 0);
}

TEST(BodyReader, IsToldWhyABodyEndsShort) {
  Uploads u;
  TestServer server(u.options(), u.handler());
  {
    // The client goes away mid-body.
    Client c(server.port());
    ASSERT_TRUE(c.send(upload_head(1000) + "part"));
    std::this_thread::sleep_for(100ms);
    c.close();
    std::this_thread::sleep_for(200ms);
    auto seen = server.call([&] { return **u.latest; });
    EXPECT_EQ(seen.aborts, 1);
    EXPECT_EQ(seen.abort_status, 0);
    EXPECT_EQ(seen.ends, 0);
  }
  {
    // Broken chunked framing: 400 to the client and to the reader.
    Client c(server.port());
    ASSERT_TRUE(
        c.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\nzz\r\n"));
    EXPECT_EQ(c.read_response().status, 400);
    auto seen = server.call([&] { return **u.latest; });
    EXPECT_EQ(seen.abort_status, 400);
    EXPECT_EQ(seen.ends, 0);
  }
  {
    // A reader that throws: 500, and the server goes on serving.
    Client c(server.port());
    ASSERT_TRUE(c.send(upload_head(5) + "throw"));
    EXPECT_EQ(c.read_response().status, 500);
    EXPECT_EQ(server.call([&] { return (*u.latest)->abort_status; }), 500);
    EXPECT_EQ(server.stats().handler_errors, 1u);  // the host's code failed, not the client
    EXPECT_EQ(server.stats().client_errors, 1u);   // the broken chunked framing above
    EXPECT_EQ(roundtrip(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").status, 200);
  }
  // A resumer kept past its connection's end does nothing.
  auto resume = server.call([&] { return (*u.reader)->resumer(); });
  server.call([&] {
    resume();
    return 0;
  });
  EXPECT_EQ(server.connections(), 0u);
}

TEST(BodyReader, ShutdownAbortsAnUploadThatDoesNotFinish) {
  Uploads u;
  ServerOptions o = u.options();
  o.shutdown_timeout_ms = 200;
  TestServer server(o, u.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send(upload_head(1000) + "part"));
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(server.shutdown(3000));
  auto seen = server.call([&] { return **u.latest; });
  EXPECT_EQ(seen.aborts, 1);
  EXPECT_EQ(seen.abort_status, 0);
}

TEST(BodyReader, ItsResponseCarriesTheRequestIdAndGetsItsAccessLine) {
  // The reader answers long after the head: the id and the access line still name the request.
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  Logger log(fileno(file), LoggerOptions{});
  Uploads u;
  ServerOptions o = u.options();
  o.access_log = true;
  o.echo_request_id = true;
  TestServer server(o, u.handler(), &log);
  Client c(server.port());
  std::string body = pattern(100000);
  ASSERT_TRUE(c.send(upload_head(body.size(), "X-Request-Id: upload-7\r\n") + body));
  auto r = c.read_response(5000);
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.header("x-request-id"), "upload-7");
  server.call([&] {
    log.flush_all();
    return 0;
  });
  std::string lines;
  std::rewind(file);
  for (int ch; (ch = std::fgetc(file)) != EOF;) lines.push_back(static_cast<char>(ch));
  std::fclose(file);
  EXPECT_NE(lines.find("method=POST"), std::string::npos) << lines;
  EXPECT_NE(lines.find("target=/upload"), std::string::npos) << lines;
  EXPECT_NE(lines.find("request_id=upload-7"), std::string::npos) << lines;
  EXPECT_NE(lines.find("status=201"), std::string::npos) << lines;
}

}  // namespace
}  // namespace hs::test
