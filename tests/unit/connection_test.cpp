// Request assembly does not depend on how the bytes are cut: every request below is sent in
// one write, one byte at a time, and split in two at every position, and the handler must see
// the same request(s) and the client the same response(s) each time.
#include "connection.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "test_server.hpp"

namespace hs::test {
namespace {

// What the handler saw, copied out of the connection's buffers.
struct Seen {
  std::string method, target, path, query;
  int major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  os << s.method << " " << s.target << " HTTP/" << s.major << "." << s.minor
     << (s.keep_alive ? " keep-alive" : " close") << " {";
  for (const auto& [n, v] : s.headers) os << n << ": '" << v << "'; ";
  return os << "} body='" << s.body << "'";
}

struct Case {
  const char* name;
  std::string bytes;
  size_t responses;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"get with several fields",
       "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: unit/1\r\nAccept: */*\r\n"
       "X-Empty:\r\nX-Spaced:  v w \r\n\r\n",
       1},
      {"post with content-length",
       "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", 1},
      {"chunked post with a trailer",
       "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
       1},
      {"two pipelined requests",
       "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"
       "abc",
       2},
      // Decoded in place (ChunkedDecoder): several extensions on one chunk (which llhttp 8.1
      // refuses), a trailer, then a pipelined request right after the final CRLF.
      {"chunked with several extensions, then a pipelined request",
       "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3;a=b;c=\"d;e\"\r\nabc\r\n02 ; f\r\nde\r\n0\r\nT: 1\r\n\r\n"
       "GET /y HTTP/1.1\r\nHost: h\r\n\r\n",
       2},
  };
  return all;
}

// Requests llhttp refuses for their method or version: the status must not depend on how
// the request line arrives (the bytes that decide may come in a later read).
const std::vector<std::pair<std::string, std::string>>& refused_lines() {
  static const std::vector<std::pair<std::string, std::string>> all = {
      {"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 501 "},  // a token: unknown method
      {"BRE1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 "},                // no target: malformed
      {"GE{T / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 "},     // not a token
      {"GET / HTTP/3.0\r\nHost: h\r\n\r\n", "HTTP/1.1 505 "},      // a version, not ours
      {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", "HTTP/1.1 200 "},      // served as 1.1
      {"GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", "HTTP/1.1 400 "},    // junk after the version
  };
  return all;
}

// The response without its Date field, which changes every second.
std::string without_date(const std::string& raw) {
  std::string out = raw;
  size_t at = out.find("\r\nDate: ");
  if (at != std::string::npos) out.erase(at, out.find("\r\n", at + 2) - at);
  return out;
}

struct Outcome {
  std::vector<Seen> seen;
  std::vector<std::string> responses;  // raw, without Date
};

using Sender = std::function<bool(Client&, const std::string&)>;

class ConnectionAssembly : public ::testing::Test {
 protected:
  ConnectionAssembly()
      : server_(TestServer::loopback(), [this](const Request& q, Response& r) {
          Seen s;
          s.method = q.method();
          s.target = q.target();
          s.path = q.path();
          s.query = q.query();
          s.major = q.version_major();
          s.minor = q.version_minor();
          for (const Header& h : q.headers()) s.headers.emplace_back(h.name, h.value);
          s.body = q.body();
          s.keep_alive = q.keep_alive();
          seen_.push_back(s);  // on the reactor thread; read through server_.call()
          r.set_header("Content-Type", "text/plain");
          r.body = s.method + " " + s.target + " " + std::to_string(s.headers.size()) + " [" +
                   s.body + "]";
        }) {}

  ~ConnectionAssembly() override {
    EXPECT_TRUE(server_.shutdown());
    EXPECT_EQ(server_.registered(), 0u);
  }

  // One fresh connection: sends `c.bytes` with `send`, reads the responses, closes.
  Outcome run(const Case& c, const Sender& send) {
    server_.call([this] {
      seen_.clear();
      return 0;
    });
    Outcome out;
    Client client(server_.port());
    EXPECT_TRUE(client.connected());
    int one = 1;
    ::setsockopt(client.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    EXPECT_TRUE(send(client, c.bytes));
    for (size_t i = 0; i < c.responses; ++i) {
      auto r = client.read_response(3000);
      EXPECT_NE(r.status, 0) << "response " << i << " did not arrive";
      if (r.status == 0) break;
      out.responses.push_back(without_date(r.raw));
    }
    out.seen = server_.call([this] { return seen_; });
    return out;
  }

  static void pause() { std::this_thread::sleep_for(std::chrono::microseconds(300)); }

  TestServer server_;
  std::vector<Seen> seen_;
};

Sender in_one_write() {
  return [](Client& c, const std::string& bytes) { return c.send(bytes); };
}

TEST_F(ConnectionAssembly, ParsesEachRequestSentInOneWrite) {
  const auto& all = cases();
  // The baselines themselves are what the requests say.
  Outcome get = run(all[0], in_one_write());
  ASSERT_EQ(get.seen.size(), 1u);
  const Seen& g = get.seen[0];
  EXPECT_EQ(g.method, "GET");
  EXPECT_EQ(g.target, "/a/b?x=1");
  EXPECT_EQ(g.path, "/a/b");
  EXPECT_EQ(g.query, "x=1");
  EXPECT_EQ(g.major, 1);
  EXPECT_EQ(g.minor, 1);
  EXPECT_TRUE(g.keep_alive);
  EXPECT_EQ(g.headers, (std::vector<std::pair<std::string, std::string>>{{"Host", "example.com"},
                                                                         {"User-Agent", "unit/1"},
                                                                         {"Accept", "*/*"},
                                                                         {"X-Empty", ""},
                                                                         {"X-Spaced", "v w"}}));
  EXPECT_EQ(g.body, "");
  ASSERT_EQ(get.responses.size(), 1u);
  EXPECT_TRUE(get.responses[0].ends_with("\r\n\r\nGET /a/b?x=1 5 []")) << get.responses[0];

  Outcome post = run(all[1], in_one_write());
  ASSERT_EQ(post.seen.size(), 1u);
  EXPECT_EQ(post.seen[0].method, "POST");
  EXPECT_EQ(post.seen[0].body, "hello world");

  Outcome chunked = run(all[2], in_one_write());
  ASSERT_EQ(chunked.seen.size(), 1u);
  EXPECT_EQ(chunked.seen[0].target, "/c");
  EXPECT_EQ(chunked.seen[0].body, "hello world");
  ASSERT_GE(chunked.seen[0].headers.size(), 2u);
  EXPECT_EQ(chunked.seen[0].headers[0], (std::pair<std::string, std::string>{"Host", "h"}));
  EXPECT_EQ(chunked.seen[0].headers[1],
            (std::pair<std::string, std::string>{"Transfer-Encoding", "chunked"}));
  ASSERT_EQ(chunked.responses.size(), 1u);
  EXPECT_TRUE(chunked.responses[0].ends_with("[hello world]")) << chunked.responses[0];

  Outcome pipelined = run(all[3], in_one_write());
  ASSERT_EQ(pipelined.seen.size(), 2u);
  EXPECT_EQ(pipelined.seen[0].target, "/1");
  EXPECT_EQ(pipelined.seen[0].body, "");
  EXPECT_EQ(pipelined.seen[1].target, "/2");
  EXPECT_EQ(pipelined.seen[1].body, "abc");
  ASSERT_EQ(pipelined.responses.size(), 2u);
  EXPECT_TRUE(pipelined.responses[0].ends_with("GET /1 1 []"));
  EXPECT_TRUE(pipelined.responses[1].ends_with("POST /2 2 [abc]"));
}

TEST_F(ConnectionAssembly, ParsesTheSameRequestsWhenSentOneByteAtATime) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Outcome expected = run(c, in_one_write());
    ASSERT_EQ(expected.seen.size(), c.responses);
    Outcome got = run(c, [](Client& client, const std::string& bytes) {
      for (char byte : bytes) {
        if (!client.send(std::string_view(&byte, 1))) return false;
        pause();
      }
      return true;
    });
    EXPECT_EQ(got.seen, expected.seen);
    EXPECT_EQ(got.responses, expected.responses);
  }
}

TEST_F(ConnectionAssembly, ParsesTheSameRequestsWhateverTheSplitPoint) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Outcome expected = run(c, in_one_write());
    ASSERT_EQ(expected.seen.size(), c.responses);
    for (size_t split = 1; split < c.bytes.size(); ++split) {
      SCOPED_TRACE("split after byte " + std::to_string(split) + ": '" + c.bytes.substr(0, split) +
                   "' | '" + c.bytes.substr(split) + "'");
      Outcome got = run(c, [split](Client& client, const std::string& bytes) {
        if (!client.send(std::string_view(bytes).substr(0, split))) return false;
        pause();
        return client.send(std::string_view(bytes).substr(split));
      });
      EXPECT_EQ(got.seen, expected.seen);
      EXPECT_EQ(got.responses, expected.responses);
      if (got.seen != expected.seen || got.responses != expected.responses) break;  // one report
    }
  }
}

TEST_F(ConnectionAssembly, AnswersARefusedRequestLineTheSameWhateverTheSplitPoint) {
  for (const auto& [bytes, status] : refused_lines()) {
    SCOPED_TRACE(bytes);
    Case c{"refused", bytes, 1};
    Outcome whole = run(c, in_one_write());
    ASSERT_EQ(whole.responses.size(), 1u);
    EXPECT_TRUE(whole.responses[0].starts_with(status)) << whole.responses[0];
    if (status == "HTTP/1.1 200 ") {
      ASSERT_EQ(whole.seen.size(), 1u);
      EXPECT_EQ(whole.seen[0].minor, 1);  // RFC 9110 section 2.5
    } else {
      EXPECT_TRUE(whole.seen.empty());
    }
    for (size_t split = 1; split < bytes.size(); ++split) {
      SCOPED_TRACE("split after byte " + std::to_string(split));
      Outcome got = run(c, [split](Client& client, const std::string& all) {
        if (!client.send(std::string_view(all).substr(0, split))) return false;
        pause();
        return client.send(std::string_view(all).substr(split));
      });
      EXPECT_EQ(got.responses, whole.responses);
      if (got.responses != whole.responses) break;  // one report
    }
  }
}

TEST_F(ConnectionAssembly, AnswersAnUnfinishedRefusedLineWhenTheClientStopsSending) {
  // "BRE" could still become a method: the answer waits for the rest, and is 400 once the
  // client has shut down its side instead.
  Client client(server_.port());
  ASSERT_TRUE(client.send("BRE"));
  pause();
  ::shutdown(client.fd(), SHUT_WR);
  auto r = client.read_response(3000);
  EXPECT_EQ(r.status, 400);
}

// Sends `bytes` in pieces of `piece` bytes.
Sender in_pieces(size_t piece) {
  return [piece](Client& client, const std::string& bytes) {
    for (size_t at = 0; at < bytes.size(); at += piece) {
      if (!client.send(std::string_view(bytes).substr(at, piece))) return false;
      if (piece < 64) std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    return true;
  };
}

TEST_F(ConnectionAssembly, DecodesALargeChunkedBodyInPlaceAcrossReadsAndBufferGrowth) {
  // 300 chunks of 97 bytes: far more than the 4 KiB first read buffer, so the buffer is
  // compacted (the framing already decoded is dropped) and grown while the body arrives.
  std::string wire = "POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body;
  for (int i = 0; i < 300; ++i) {
    std::string chunk(97, static_cast<char>('a' + i % 26));
    wire += "61;n=" + std::to_string(i) + "\r\n" + chunk + "\r\n";
    body += chunk;
  }
  wire += "0\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n";
  Case c{"large chunked", wire, 2};
  for (size_t piece : {wire.size(), size_t{1000}, size_t{7}}) {
    SCOPED_TRACE(piece);
    Outcome got = run(c, in_pieces(piece));
    ASSERT_EQ(got.seen.size(), 2u);
    EXPECT_EQ(got.seen[0].body, body);
    EXPECT_EQ(got.seen[1].target, "/after");
  }
}

TEST_F(ConnectionAssembly, HoldsTheHeadAsSentToTheLimitsWhitespaceIncluded) {
  // llhttp skips whitespace before a field value without reporting it: 20 KB of it is still
  // more head than the limits allow (8 KiB target + 8 KiB fields + 1 KiB), however it comes.
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad:" + std::string(20000, ' ') + "v\r\n\r\n";
  Case c{"padded", wire, 1};
  for (size_t piece : {wire.size(), size_t{1000}}) {
    SCOPED_TRACE(piece);
    Outcome got = run(c, in_pieces(piece));
    ASSERT_EQ(got.responses.size(), 1u);
    EXPECT_TRUE(got.responses[0].starts_with("HTTP/1.1 431 ")) << got.responses[0];
    EXPECT_TRUE(got.seen.empty());
  }
}

TEST_F(ConnectionAssembly, ParsesPipelinedRequestsSplitInsideTheSecondOnTheSameConnection) {
  // The first request is answered while the second is still arriving, in three pieces.
  const Case& c = cases()[3];
  Outcome expected = run(c, in_one_write());
  size_t second = c.bytes.find("POST");
  ASSERT_NE(second, std::string::npos);
  Outcome got = run(c, [second](Client& client, const std::string& bytes) {
    std::string_view all(bytes);
    bool ok = client.send(all.substr(0, second + 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ok = ok && client.send(all.substr(second + 2, 20));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return ok && client.send(all.substr(second + 22));
  });
  EXPECT_EQ(got.seen, expected.seen);
  EXPECT_EQ(got.responses, expected.responses);
}

}  // namespace
}  // namespace hs::test
