// The request grammar with no socket: bytes in, "request", "more", "100 Continue" or an error
// status out (and, head first, a head and the pieces of its body), the same however the bytes
// are cut, and the same through the common-head parser as through llhttp.
#include "request_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hs {
namespace {

using Result = RequestCodec::Result;

// A request as the codec described it, copied out of the buffer.
struct Decoded {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> fields;
  int minor = 0;
  bool keep_alive = false, connect = false;
  bool operator==(const Decoded&) const = default;
};

std::string text(const ReadBuffer& b, Span s) { return {b.data.get() + s.offset, s.length}; }

// Feeds bytes and collects what the codec says, as a connection would (minus the socket).
class Feeder {
 public:
  explicit Feeder(bool common_heads = true, size_t capacity = 1 << 16)
      : buffer_(std::make_unique<ReadBuffer>(capacity)) {
    rules_.max_header_bytes = 512;
    rules_.max_target_bytes = 128;
    rules_.max_body_bytes = 256;
    rules_.common_heads = common_heads;
    codec_ = std::make_unique<RequestCodec>(rules_);
  }

  // Appends `bytes` and decodes until the codec wants more or fails. Returns the last result.
  Result feed(std::string_view bytes) {
    ReadBuffer& b = *buffer_;
    std::memcpy(b.data.get() + b.length, bytes.data(), bytes.size());
    b.length += bytes.size();
    for (;;) {
      Result r = codec_->decode(b);
      if (r == Result::request) {
        requests.push_back(snapshot());
        continue;
      }
      if (r == Result::continue_100) {
        ++continues;
        continue;
      }
      return r;
    }
  }

  RequestCodec& codec() { return *codec_; }
  std::vector<Decoded> requests;
  int continues = 0;

 private:
  Decoded snapshot() const {
    const ReadBuffer& b = *buffer_;
    Decoded d;
    d.method = text(b, b.method);
    d.target = text(b, b.target);
    d.body = text(b, b.body);
    for (const HeaderSpan& h : b.headers) d.fields.emplace_back(text(b, h.name), text(b, h.value));
    d.minor = codec_->head().minor;
    d.keep_alive = codec_->head().keep_alive;
    d.connect = codec_->head().connect;
    return d;
  }

  CodecRules rules_;
  std::unique_ptr<ReadBuffer> buffer_;
  std::unique_ptr<RequestCodec> codec_;
};

struct Outcome {
  std::vector<Decoded> requests;
  Result last = Result::more;
  int status = 0;
  int continues = 0;
};

Outcome decode_all(std::string_view input, bool common_heads = true) {
  Feeder f(common_heads);
  Outcome o;
  o.last = f.feed(input);
  o.status = o.last == Result::error ? f.codec().status() : 0;
  o.requests = f.requests;
  o.continues = f.continues;
  return o;
}

// The same input cut in two at `at`.
Outcome decode_split(std::string_view input, size_t at, bool common_heads = true) {
  Feeder f(common_heads);
  Outcome o;
  o.last = f.feed(input.substr(0, at));
  if (o.last != Result::error) o.last = f.feed(input.substr(at));
  o.status = o.last == Result::error ? f.codec().status() : 0;
  o.requests = f.requests;
  return o;
}

TEST(RequestCodec, SaysASimpleGetIsReady) {
  Feeder f;
  EXPECT_EQ(f.feed("GET /a?b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"), Result::more);
  ASSERT_EQ(f.requests.size(), 1u);
  const Decoded& d = f.requests[0];
  EXPECT_EQ(d.method, "GET");
  EXPECT_EQ(d.target, "/a?b");
  EXPECT_EQ(d.minor, 1);
  EXPECT_TRUE(d.keep_alive);
  EXPECT_EQ(d.body, "");
  ASSERT_EQ(d.fields.size(), 2u);
  EXPECT_EQ(d.fields[1], (std::pair<std::string, std::string>{"Accept", "*/*"}));
  EXPECT_FALSE(f.codec().in_request());
}

TEST(RequestCodec, HandsOverPipelinedRequestsOneAtATime) {
  ReadBuffer b(4096);
  CodecRules rules;
  RequestCodec codec(rules);
  std::string_view in =
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
      "GET /3 HTTP/1.0\r\n\r\n";
  std::memcpy(b.data.get(), in.data(), in.size());
  b.length = in.size();
  std::vector<std::string> targets;
  for (Result r; (r = codec.decode(b)) == Result::request;) {
    targets.push_back(text(b, b.target));
    if (targets.size() == 2) {
      EXPECT_EQ(text(b, b.body), "abc");
    }
  }
  EXPECT_EQ(targets, (std::vector<std::string>{"/1", "/2", "/3"}));
  EXPECT_EQ(b.parsed, b.length);
}

TEST(RequestCodec, NeedsMoreUntilARequestIsWholeAtEverySplitPoint) {
  const std::vector<std::string> inputs = {
      "GET /x HTTP/1.1\r\nHost: h\r\nX-A:  b \r\n\r\n",
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
      "\r\nGET /after-crlf HTTP/1.1\r\nHost: h\r\n\r\n",
  };
  for (const std::string& in : inputs) {
    Outcome whole = decode_all(in);
    ASSERT_EQ(whole.requests.size(), 1u) << in;
    for (size_t at = 1; at < in.size(); ++at) {
      SCOPED_TRACE(in + " split at " + std::to_string(at));
      Feeder f;
      EXPECT_EQ(f.feed(std::string_view(in).substr(0, at)), Result::more);
      EXPECT_TRUE(f.requests.empty());
      EXPECT_EQ(f.feed(std::string_view(in).substr(at)), Result::more);
      EXPECT_EQ(f.requests, whole.requests);
    }
  }
}

TEST(RequestCodec, DecodesAChunkedBodyInPlace) {
  Outcome o = decode_all(
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.requests.size(), 2u);
  EXPECT_EQ(o.requests[0].body, "hello world");
  EXPECT_EQ(o.requests[1].target, "/next");
  EXPECT_EQ(o.last, Result::more);
}

TEST(RequestCodec, AsksFor100ContinueOnlyBeforeTheBody) {
  std::string head =
      "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  Feeder f;
  EXPECT_EQ(f.feed(head), Result::more);
  EXPECT_EQ(f.continues, 1);
  EXPECT_TRUE(f.codec().in_body());
  EXPECT_EQ(f.feed("ok"), Result::more);
  ASSERT_EQ(f.requests.size(), 1u);
  EXPECT_EQ(f.requests[0].body, "ok");
  EXPECT_EQ(decode_all(head + "ok").continues, 0);  // the body is here already
}

TEST(RequestCodec, AnswersEachErrorWithItsStatusAndAReason) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"GET / HTTP/1.1\nHost: h\r\n\r\n", 400},                  // bare LF
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},     // two Hosts
      {"GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: h\r\n\r\n", 400},  // obs-fold
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1ff\r\n", 413},
      {"GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(600, 'v') + "\r\n\r\n", 431},
      {"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n", 417},
  };
  for (const auto& [in, status] : cases) {
    for (bool common : {true, false}) {
      SCOPED_TRACE(in + (common ? " (common heads on)" : " (llhttp only)"));
      Feeder f(common);
      ASSERT_EQ(f.feed(in), Result::error);
      EXPECT_EQ(f.codec().status(), status);
      EXPECT_STRNE(f.codec().reason(), "");
      EXPECT_EQ(f.codec().decode(*std::make_unique<ReadBuffer>(16)), Result::error);  // sticky
    }
  }
}

TEST(RequestCodec, JudgesARefusedLineOnlyWhenItIsWhole) {
  Feeder f;
  EXPECT_EQ(f.feed("BREW /po"), Result::more);  // method unknown, but is the line well formed?
  EXPECT_TRUE(f.codec().in_head());
  EXPECT_EQ(f.feed("t HTTP/1.1\r\n"), Result::error);
  EXPECT_EQ(f.codec().status(), 501);

  Feeder cut;
  EXPECT_EQ(cut.feed("BREW /po"), Result::more);
  EXPECT_EQ(cut.codec().finish(), Result::error);  // the client ends: it never will be whole
  EXPECT_EQ(cut.codec().status(), 400);

  // A higher minor version of 1 is read as 1.1.
  Outcome o = decode_all("GET /v HTTP/1.7\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_EQ(o.requests[0].minor, 1);
}

TEST(RequestCodec, GivesTheSameRequestsThroughTheCommonHeadParserAsThroughLlhttp) {
  const std::vector<std::string> inputs = {
      "GET /a?b=c HTTP/1.1\r\nHost: h:1\r\nAccept: */*\r\nX-Pad: \t a b \t\r\n\r\n"
      "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /close HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
      "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
      "GET /c HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nX-Empty:\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nA B: c\r\nHost: h\r\n\r\n",
      // Uploads: the body counted out of the buffer by the codec after a common head.
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloPUT /q HTTP/1.1\r\nHost: "
      "h\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabcGET /r HTTP/1.1\r\nHost: "
      "h\r\n\r\n",
      "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nPOST /n HTTP/1.1\r\nHost: "
      "h\r\n\r\nPOST /10 HTTP/1.0\r\nContent-Length: 2\r\n\r\nok",
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 256\r\n\r\n" + std::string(256, 'b') +
          "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 257\r\n\r\n" + std::string(257, 'b'),
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbye!",
  };
  for (const std::string& in : inputs) {
    SCOPED_TRACE(in);
    Outcome common = decode_all(in, true), llhttp = decode_all(in, false);
    EXPECT_FALSE(common.requests.empty());
    EXPECT_EQ(common.requests, llhttp.requests);
    EXPECT_EQ(common.last, llhttp.last);
    EXPECT_EQ(common.status, llhttp.status);
    for (size_t at = 1; at < in.size(); at += 7) {
      Outcome split = decode_split(in, at);
      EXPECT_EQ(split.requests, common.requests) << "split at " << at;
      EXPECT_EQ(split.status, common.status) << "split at " << at;
    }
  }
}

TEST(RequestCodec, CompactsTheBufferKeepingTheSpansOfTheRequestInProgress) {
  // The first request's bytes go; the second's head stays, its spans shifted.
  std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  ReadBuffer b(4096);
  CodecRules rules;
  RequestCodec codec(rules);
  std::string in = first + "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n";
  std::memcpy(b.data.get(), in.data(), in.size());
  b.length = in.size();
  ASSERT_EQ(codec.decode(b), Result::request);
  ASSERT_EQ(codec.decode(b), Result::more);
  ASSERT_TRUE(codec.in_body());
  codec.compact(b);
  EXPECT_EQ(b.line_start, 0u);
  EXPECT_EQ(text(b, b.target), "/2");
  std::memcpy(b.data.get() + b.length, "ok", 2);
  b.length += 2;
  ASSERT_EQ(codec.decode(b), Result::request);
  EXPECT_EQ(text(b, b.body), "ok");
  EXPECT_EQ(text(b, b.headers[0].value), "h");
}

// Head first: what a connection with a ServerOptions::stream_body sees of `in` cut at `at`,
// streaming the body of every request whose target starts with "/s" and buffering the others.
// Each piece is taken and the buffer compacted after every decode(), as a connection does.
struct HeadFirst {
  std::vector<std::string> events;  // "head /t", "piece", "end", "request /t", "error N"
  std::string streamed;
  std::vector<std::string> buffered;
};

HeadFirst decode_head_first(std::string_view in, size_t at, size_t max_body = 256,
                            bool common_heads = true) {
  HeadFirst out;
  CodecRules rules;
  rules.max_body_bytes = max_body;
  rules.head_first = true;
  rules.common_heads = common_heads;
  RequestCodec codec(rules);
  ReadBuffer b(1 << 16);
  for (std::string_view part : {in.substr(0, at), in.substr(at)}) {
    std::memcpy(b.data.get() + b.length, part.data(), part.size());
    b.length += part.size();
    for (bool more = true; more;) {
      Result r = codec.decode(b);
      switch (r) {
        case Result::more:
          more = false;
          break;
        case Result::head: {
          std::string target = text(b, b.target);
          out.events.push_back("head " + target);
          if (target.starts_with("/s")) {
            codec.stream_body();
          } else if (int status = codec.read_body()) {
            out.events.push_back("error " + std::to_string(status));
            return out;
          }
          break;
        }
        case Result::body_piece:
        case Result::body_end:
          out.streamed += text(b, b.body);
          if (r == Result::body_end) out.events.push_back("end");
          break;
        case Result::request:
          out.events.push_back("request " + text(b, b.target));
          out.buffered.push_back(text(b, b.body));
          break;
        case Result::continue_100:
          out.events.push_back("100");
          break;
        case Result::error:
          out.events.push_back("error " + std::to_string(codec.status()));
          return out;
      }
      codec.compact(b);
    }
  }
  return out;
}

TEST(RequestCodec, HeadFirstStreamsABodyInPiecesAtEverySplitPoint) {
  std::string body(1000, 0);
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  std::string chunked;
  for (size_t i = 0; i < body.size(); i += 300) {
    std::string part = body.substr(i, 300);
    chunked += (part.size() == 300 ? "12c" : "64") + std::string(";x=y\r\n") + part + "\r\n";
  }
  const std::string get = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string by_length =
      "POST /s HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n" + body + get;
  const std::string by_chunks =
      "POST /s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
      "0\r\nT: v\r\n\r\n" + get;
  const std::vector<std::string> expected = {"head /s", "end", "request /next"};
  for (const std::string& in : {by_length, by_chunks}) {
    for (size_t at = 0; at <= in.size(); ++at) {
      for (bool common_heads : {true, false}) {
        HeadFirst d = decode_head_first(in, at, 256, common_heads);
        ASSERT_EQ(d.events, expected) << "split at " << at << " of\n" << in;
        ASSERT_EQ(d.streamed, body) << "split at " << at;  // past max_body_bytes (256)
      }
    }
  }
}

TEST(RequestCodec, HeadFirstBuffersWhatIsNotStreamedUnderTheSameLimits) {
  // Buffered: the whole body comes with `request`; 100-continue is the caller's to send.
  HeadFirst ok = decode_head_first(
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc", 0);
  EXPECT_EQ(ok.events, (std::vector<std::string>{"head /b", "request /b"}));
  EXPECT_EQ(ok.buffered, (std::vector<std::string>{"abc"}));
  // Over max_body_bytes: 413 when the body would be buffered, by length or by chunks.
  for (bool common_heads : {true, false}) {
    HeadFirst big = decode_head_first(
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 300\r\n\r\n" + std::string(300, 'x'), 0,
        256, common_heads);
    EXPECT_EQ(big.events, (std::vector<std::string>{"head /b", "error 413"}));
    HeadFirst fits = decode_head_first(
        "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 256\r\n\r\n" + std::string(256, 'x'), 0, 256,
        common_heads);
    EXPECT_EQ(fits.events, (std::vector<std::string>{"head /b", "request /b"}));
    EXPECT_EQ(fits.buffered, (std::vector<std::string>{std::string(256, 'x')}));
  }
  HeadFirst chunks =
      decode_head_first("POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n12c\r\n" +
                            std::string(300, 'x') + "\r\n0\r\n\r\n",
                        0);
  EXPECT_EQ(chunks.events, (std::vector<std::string>{"head /b", "error 413"}));
  // A bodiless request never stops at its head.
  EXPECT_EQ(decode_head_first("GET /s HTTP/1.1\r\nHost: h\r\n\r\n", 0).events,
            (std::vector<std::string>{"request /s"}));
  // Streamed, the chunk-line bounds still hold.
  HeadFirst line =
      decode_head_first("POST /s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;" +
                            std::string(2000, 'e'),
                        0);
  EXPECT_EQ(line.events, (std::vector<std::string>{"head /s", "error 413"}));
}

}  // namespace
}  // namespace hs
