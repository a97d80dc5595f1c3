// The one-pass parser for common request heads: what it accepts it must describe exactly as
// llhttp's callbacks would; everything else (any doubt) it declines and leaves to llhttp.
// Connection-level agreement with llhttp is checked in connection_test and by the fuzzer.
#include "common_head.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httpserver/reactor.hpp>

#include "exchange_driver.hpp"

namespace hs::test {
namespace {

using namespace std::string_literals;

constexpr size_t kMaxBytes = 8 * 1024;

// A read buffer holding `bytes` after `skip` bytes already parsed.
ReadBuffer buffer(std::string_view bytes, size_t skip = 0) {
  ReadBuffer b(skip + bytes.size() + 16);
  std::memset(b.data.get(), 'x', skip);
  std::memcpy(b.data.get() + skip, bytes.data(), bytes.size());
  b.parsed = skip;
  b.length = skip + bytes.size();
  return b;
}

std::string_view text(const ReadBuffer& b, Span s) { return {b.data.get() + s.offset, s.length}; }

std::vector<std::pair<std::string, std::string>> fields(const ReadBuffer& b) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const HeaderSpan& h : b.headers) out.emplace_back(text(b, h.name), text(b, h.value));
  return out;
}

TEST(CommonHead, DescribesATypicalGet) {
  std::string head =
      "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: unit/1\r\n"
      "Accept: */*\r\nX-Empty:\r\nX-Spaced: \t v w \r\n\r\n";
  ReadBuffer b = buffer(head, 7);
  CommonHead h;
  HostMemo memo;
  ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h));
  EXPECT_EQ(h.method, CommonHead::Method::get);
  EXPECT_EQ(h.minor, 1);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(text(b, b.method), "GET");
  EXPECT_EQ(text(b, b.target), "/a/b?x=1&y=%20");
  EXPECT_EQ(b.head_start, 7u);
  EXPECT_EQ(b.head_end, 7 + head.size());
  EXPECT_EQ(b.body.length, 0u);
  // Whitespace around a value is not part of it.
  using F = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(fields(b), (F{{"Host", "127.0.0.1:8080"},
                          {"User-Agent", "unit/1"},
                          {"Accept", "*/*"},
                          {"X-Empty", ""},
                          {"X-Spaced", "v w"}}));
}

TEST(CommonHead, KeepAliveFollowsVersionAndConnection) {
  struct Expect {
    std::string head;
    CommonHead::Method method;
    int minor;
    bool keep_alive;
  };
  const std::vector<Expect> all = {
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", CommonHead::Method::get, 1, true},
      {"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", CommonHead::Method::head, 1, true},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", CommonHead::Method::get, 1, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nconnection: Keep-Alive\r\n\r\n", CommonHead::Method::get, 1,
       true},
      {"GET / HTTP/1.0\r\n\r\n", CommonHead::Method::get, 0, false},
      {"GET / HTTP/1.0\r\nHost: h\r\n\r\n", CommonHead::Method::get, 0, false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", CommonHead::Method::get, 0, true},
      {"HEAD / HTTP/1.0\r\nConnection: CLOSE\r\n\r\n", CommonHead::Method::head, 0, false},
  };
  for (const Expect& e : all) {
    ReadBuffer b = buffer(e.head);
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << e.head;
    EXPECT_EQ(h.method, e.method) << e.head;
    EXPECT_EQ(h.minor, e.minor) << e.head;
    EXPECT_EQ(h.keep_alive, e.keep_alive) << e.head;
    EXPECT_EQ(b.head_end, e.head.size()) << e.head;
  }
}

// Everything outside the common corner: other methods, bodies, what llhttp gives a meaning
// to, every malformed head check_head refuses, bytes llhttp reads in ways of its own.
TEST(CommonHead, DeclinesEverythingElse) {
  const std::vector<std::string> declined = {
      "DELETE / HTTP/1.1\r\nHost: h\r\n\r\n",
      "PATCH / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
      "post / HTTP/1.1\r\nHost: h\r\n\r\n",
      "POST * HTTP/1.1\r\nHost: h\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 \r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\t\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,5\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
      "HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
      "get / HTTP/1.1\r\nHost: h\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /  HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
      "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
      "GET / http/1.1\r\nHost: h\r\n\r\n",
      "GET /\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\n",
      "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
      "GET / HTTP/1.1\r\nA B: c\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\n: c\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s,
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nProxy-Connection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close, te\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close \r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nConnection: close\r\n\r\n",
  };
  for (const std::string& head : declined) {
    ReadBuffer b = buffer(head);
    CommonHead h;
    HostMemo memo;
    EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << head;
    EXPECT_TRUE(b.headers.empty()) << head;
    EXPECT_EQ(b.method.length + b.target.length + b.head_end, 0u) << head;
  }
}

// POST and PUT with a Content-Length of digits (or none): the head is parsed, its body left
// where it starts, at the head's end, whether or not it has arrived.
TEST(CommonHead, TakesTheHeadOfAnUploadWithAContentLength) {
  struct Case {
    std::string head;
    CommonHead::Method method;
    uint64_t length;
  };
  for (const Case& c : std::vector<Case>{
           {"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", CommonHead::Method::post,
            5},
           {"PUT /up HTTP/1.1\r\nHost: h\r\ncontent-length:0007\r\n\r\n", CommonHead::Method::put,
            7},
           {"POST /up HTTP/1.0\r\nContent-Length: 999999999999999\r\n\r\n",
            CommonHead::Method::post, 999999999999999},
           {"POST /up HTTP/1.1\r\nHost: h\r\n\r\n", CommonHead::Method::post, 0},
       }) {
    for (std::string body : {"", "hello", "hello, and the next request"}) {
      ReadBuffer b = buffer(c.head + body);
      CommonHead h;
      HostMemo memo;
      ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << c.head;
      EXPECT_EQ(h.method, c.method) << c.head;
      EXPECT_EQ(h.content_length, c.length) << c.head;
      EXPECT_EQ(b.head_end, c.head.size()) << c.head;
      EXPECT_EQ(b.body.offset, c.head.size()) << c.head;
      EXPECT_EQ(b.body.length, 0u) << c.head;
      EXPECT_EQ(text(b, b.target), "/up") << c.head;
    }
  }
}

// Targets, names and values are read sixteen bytes at a time (eight on machines without SIMD):
// a byte they may not hold is found wherever it sits in a group or in the partial group after
// the whole ones, and a clean one is taken whole.
TEST(CommonHead, FindsAForbiddenByteAnywhereInALongTargetNameOrValue) {
  const std::string clean(40, 'a');
  auto target_head = [](const std::string& t) {
    return "GET /" + t + " HTTP/1.1\r\nHost: h\r\n\r\n";
  };
  auto value_head = [](const std::string& v) {
    return "GET / HTTP/1.1\r\nHost: h\r\nX: " + v + "\r\n\r\n";
  };
  {
    ReadBuffer b = buffer(target_head(clean));
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h));
    EXPECT_EQ(text(b, b.target), "/" + clean);
  }
  {
    ReadBuffer b = buffer(value_head(clean));
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h));
    EXPECT_EQ(text(b, b.headers.at(1).value), clean);
  }
  for (size_t i = 0; i < clean.size(); ++i) {
    for (char bad : {'#', ' ', '\x7f', '\x01', '\x80', '\xff'}) {
      std::string t = clean;
      t[i] = bad;
      ReadBuffer b = buffer(target_head(t));
      CommonHead h;
      HostMemo memo;
      EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << i << " " << int(bad);
    }
    for (char bad : {'\x7f', '\x01', '\r', '\x80', '\xff'}) {
      std::string v = clean;
      v[i] = bad;
      ReadBuffer b = buffer(value_head(v));
      CommonHead h;
      HostMemo memo;
      EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << i << " " << int(bad);
    }
    for (char bad : {' ', '"', '(', '/', '@', '[', '{', '\x7f', '\x01', '\x80', '\xff'}) {
      std::string name = clean;
      name[i] = bad;
      ReadBuffer b = buffer("GET / HTTP/1.1\r\nHost: h\r\n" + name + ": v\r\n\r\n");
      CommonHead h;
      HostMemo memo;
      EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << i << " " << int(bad);
    }
    // Every other tchar, where names are mostly letters and '-', is read byte by byte.
    for (char other : {'0', '9', '!', '#', '_', '`', '|', '~', '^', '.', '*', '+', '\''}) {
      std::string name = clean;
      name[i] = other;
      ReadBuffer b = buffer("GET / HTTP/1.1\r\nHost: h\r\n" + name + ":v\r\n\r\n");
      CommonHead h;
      HostMemo memo;
      ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << i << " " << other;
      EXPECT_EQ(text(b, b.headers.at(1).name), name);
      EXPECT_EQ(text(b, b.headers.at(1).value), "v");
    }
  }
}

// The fields that decide framing or the connection are told by name in any letter case; a
// name one letter off is an ordinary field.
TEST(CommonHead, TellsTheFieldsThatMatterInAnyCase) {
  for (std::string line :
       {"content-LENGTH: 0", "TRANSFER-ENCODING: chunked", "transfer-encoding: chunked",
        "EXPECT: 100-continue", "uPgRaDe: h2c", "PROXY-CONNECTION: close"}) {
    ReadBuffer b = buffer("GET / HTTP/1.1\r\nHost: h\r\n" + line + "\r\n\r\n");
    CommonHead h;
    HostMemo memo;
    EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << line;
  }
  for (std::string line : {"Content-Lengtz: 0", "Transfer-Encodinf: chunked", "Expecs: 1",
                           "Upgradf: h2c", "Connectiom: close", "Connection-: close",
                           "Proxy-Connectiom: close", "Content_Length: 0"}) {
    ReadBuffer b = buffer("GET / HTTP/1.1\r\nHost: h\r\n" + line + "\r\n\r\n");
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << line;
    EXPECT_TRUE(h.keep_alive) << line;
    EXPECT_EQ(b.headers.size(), 2u) << line;
  }
  for (std::string value : {"CLOSE", "Close", "cLoSe"}) {
    ReadBuffer b = buffer("GET / HTTP/1.1\r\nHost: h\r\nCONNECTION: " + value + "\r\n\r\n");
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << value;
    EXPECT_FALSE(h.keep_alive) << value;
  }
  for (std::string value : {"closf", "keep-alivf", "keep_alive", "clos", "keep-alive2"}) {
    ReadBuffer b = buffer("GET / HTTP/1.1\r\nHost: h\r\nConnection: " + value + "\r\n\r\n");
    CommonHead h;
    HostMemo memo;
    EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << value;
  }
}

// "Host: " is read in one comparison; every other spelling of the field is read as any other.
TEST(CommonHead, ReadsHostHoweverItsNameAndWhitespaceAreWritten) {
  for (std::string line : {"Host: h", "host: h", "HOST:h", "Host:\t h", "Host:  h  "}) {
    ReadBuffer b = buffer("GET / HTTP/1.1\r\n" + line + "\r\n\r\n");
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << line;
    ASSERT_EQ(b.headers.size(), 1u) << line;
    EXPECT_EQ(text(b, b.headers[0].name), line.substr(0, 4)) << line;
    EXPECT_EQ(text(b, b.headers[0].value).substr(0, 1), "h") << line;
  }
}

// Lines are found by where their CR is, 64 bytes of the head at a time: a line ends where it
// ends wherever that falls in a block, a tab inside a value is part of it, whitespace around
// a value is not, and a control byte anywhere else ends nothing.
TEST(CommonHead, ReadsEveryLineWhereverItEndsInTheHead) {
  for (size_t n = 0; n <= 140; ++n) {
    std::string pad(n, 'p');
    if (n > 2) pad[n / 2] = '\t';
    std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad:\t" + pad + " \t\r\nA: 1\r\nB:2 \r\n" +
                       "Long-Name-Of-Thirty-Two-Bytes-X: " + pad + "\r\n\r\nGET /next";
    ReadBuffer b = buffer(head);
    CommonHead h;
    HostMemo memo;
    ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h)) << n;
    std::vector<std::pair<std::string, std::string>> want = {
        {"Host", "h"},
        {"X-Pad", pad},
        {"A", "1"},
        {"B", "2"},
        {"Long-Name-Of-Thirty-Two-Bytes-X", pad}};
    EXPECT_EQ(fields(b), want) << n;
    EXPECT_EQ(b.head_end, head.size() - 9) << n;

    for (char bad : {'\n', '\r', '\x00', '\x7f', '\x80'}) {
      std::string broken = head;
      broken[head.find("A: 1") + 3] = bad;  // "A: \x" : the value's only byte
      ReadBuffer c = buffer(broken);
      EXPECT_FALSE(parse_common_head(c, kMaxBytes, memo, h)) << n << " " << int(bad);
    }
  }
}

// The bytes after the last one read may be anything a buffer held before: a head is complete
// only by its own bytes.
TEST(CommonHead, DeclinesAHeadOnlyTheBufferAfterItWouldComplete) {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*";
  for (std::string stale : {"\r\n\r\n", "\n\r\n", "\r\n"}) {
    ReadBuffer b(head.size() + 100);
    std::memset(b.data.get(), '\r', b.capacity);
    for (size_t i = head.size(); i + stale.size() <= b.capacity; i += stale.size())
      std::memcpy(b.data.get() + i, stale.data(), stale.size());
    std::memcpy(b.data.get(), head.data(), head.size());
    b.length = head.size();
    CommonHead h;
    HostMemo memo;
    EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << stale.size();
  }
}

// The Host value of the last request is read again in one comparison when it comes first and
// unchanged; anything else in its place is checked byte by byte, as the first one was.
TEST(CommonHead, ChecksAHostValueThatOnlyStartsLikeTheLastOne) {
  HostMemo memo;
  auto parse = [&memo](const std::string& host_line, std::string* value) {
    ReadBuffer b = buffer("GET / HTTP/1.1\r\n" + host_line + "\r\nA: b\r\n\r\n");
    CommonHead h;
    bool ok = parse_common_head(b, kMaxBytes, memo, h);
    if (ok) *value = text(b, b.headers.at(0).value);
    return ok;
  };
  std::string value;
  ASSERT_TRUE(parse("Host: a.b:80", &value));
  EXPECT_EQ(value, "a.b:80");
  ASSERT_TRUE(parse("Host: a.b:80", &value));
  EXPECT_EQ(value, "a.b:80");
  ASSERT_TRUE(parse("Host: a.b:80 \t", &value));
  EXPECT_EQ(value, "a.b:80");
  ASSERT_TRUE(parse("Host: a.b:8080", &value));
  EXPECT_EQ(value, "a.b:8080");
  for (std::string bad :
       {"Host: a.b:8080@", "Host: a.b:8080 x", "Host: a.b:8080/", "Host: a.b:8080\x01"})
    EXPECT_FALSE(parse(bad, &value)) << bad;
  ASSERT_TRUE(parse("Host: a.b:8080", &value));  // the memo still holds the last valid one
  EXPECT_EQ(value, "a.b:8080");
}

// A head still arriving is llhttp's to follow, however much of it is here.
TEST(CommonHead, DeclinesEveryIncompleteHead) {
  std::string head = "GET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";
  for (size_t n = 0; n < head.size(); ++n) {
    ReadBuffer b = buffer(head.substr(0, n));
    CommonHead h;
    HostMemo memo;
    EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h)) << n;
  }
}

// Within the limits with room to spare, or not at all: the limits' own errors (414, 431) are
// llhttp's path to give.
TEST(CommonHead, DeclinesHeadsNearTheLimits) {
  std::string head = "GET /" + std::string(40, 'a') + " HTTP/1.1\r\nHost: h\r\nX: 1\r\n\r\n";
  // The wire size plus one byte per field must fit.
  size_t need = head.size() + 2;
  for (size_t max_bytes : {need - 1, need}) {
    ReadBuffer b = buffer(head);
    CommonHead h;
    HostMemo memo;
    EXPECT_EQ(parse_common_head(b, max_bytes, memo, h), max_bytes == need) << max_bytes;
  }
}

// Pipelined heads: each parse ends exactly where the next request starts.
TEST(CommonHead, StopsAtTheEndOfItsHead) {
  std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string second = "HEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  ReadBuffer b = buffer(first + second + "GET /3 HTTP/1.1\r\nHo");
  CommonHead h;
  HostMemo memo;
  ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h));
  EXPECT_EQ(b.head_end, first.size());
  b.parsed = b.head_end;
  ASSERT_TRUE(parse_common_head(b, kMaxBytes, memo, h));
  EXPECT_EQ(text(b, b.target), "/2");
  EXPECT_EQ(b.head_end, first.size() + second.size());
  b.parsed = b.head_end;
  EXPECT_FALSE(parse_common_head(b, kMaxBytes, memo, h));
}

// The whole request path (codec and responder), with the parser and without it (llhttp for
// every head): the handler must see the same requests and the client get the same bytes,
// Date aside.
struct Transcript {
  std::string seen;    // every request as the handler saw it
  std::string output;  // every response, Date values blanked
  bool closed = false;
};

Transcript serve(std::string_view input, bool common_heads) {
  Reactor reactor;
  Transcript t;
  ExchangeShared shared(
      reactor, Limits{},
      [&t](const Request& q, Response& r) {
        t.seen += std::string(q.method()) + " " + std::string(q.target()) + " 1." +
                  std::to_string(q.version_minor()) + (q.keep_alive() ? " ka" : " close") + "\n";
        for (const Header& h : q.headers())
          t.seen += std::string(h.name) + "=[" + std::string(h.value) + "]\n";
        t.seen += "body=[" + std::string(q.body()) + "]\n";
        r.body = std::string(q.target());
      },
      nullptr, "test");
  shared.worker.codec_rules.common_heads = common_heads;
  {
    test::ExchangeDriver connection(shared);
    connection.receive(input);
    connection.receive_eof();
    t.closed = connection.closed();
    t.output = connection.output();
  }
  for (size_t at = 0; (at = t.output.find("\r\nDate: ", at)) != std::string::npos; at += 8)
    t.output.replace(at + 8, 29, 29, '-');
  return t;
}

TEST(CommonHead, LeavesTheConnectionsAnswersUnchanged) {
  const std::vector<std::string> inputs = {
      "GET /a?b=c HTTP/1.1\r\nHost: h:1\r\nAccept: */*\r\nX-Pad: \t a b \t\r\n\r\n"
      "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
      "GET /after HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
      "GET /never HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\nGET /3 "
      "HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nA B: c\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\nGET /f HTTP/1.1\r\nHost: "
      "h\r\n\r\n",
      "GET /c HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(9000, 'v') +
          "\r\n\r\n",
      "GET /" + std::string(9000, 't') + " HTTP/1.1\r\nHost: h\r\n\r\n",
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    Transcript with = serve(inputs[i], true), without = serve(inputs[i], false);
    EXPECT_TRUE(without.output.starts_with("HTTP/1.1 ")) << "input " << i;
    EXPECT_EQ(with.seen, without.seen) << "input " << i;
    EXPECT_EQ(with.output, without.output) << "input " << i;
    EXPECT_EQ(with.closed, without.closed) << "input " << i;
  }
}

}  // namespace
}  // namespace hs::test
