// The chunked coding as RFC 9112 section 7.1 writes it, and nothing looser: every framing
// mistake a smuggling attempt relies on is refused, whatever the reads' boundaries.
#include "chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hs {
namespace {

using Result = ChunkedDecoder::Result;

struct Decoded {
  Result result = Result::more;
  std::string body;
  size_t consumed = 0;  // input bytes taken, when done: where the next request starts
};

// Feeds `wire` in pieces of `piece` bytes (0: all at once) through one buffer, as the
// connection does: the decoded body is the run at the start of the buffer.
Decoded decode(const std::string& wire, size_t piece = 0, size_t max_body = 1 << 20,
               size_t max_trailer = 8192, size_t max_line = 1 << 20,
               size_t max_extensions = 1 << 20) {
  ChunkedDecoder d;
  d.start({max_body, max_trailer, max_line, max_extensions});
  std::string buf = wire;
  size_t in = 0, out = 0, end = 0;
  Decoded r;
  while (end < buf.size()) {
    end = piece == 0 ? buf.size() : std::min(buf.size(), end + piece);
    r.result = d.decode(buf.data(), in, end, out);
    if (r.result != Result::more) break;
    EXPECT_EQ(in, end) << "more, yet input left";
  }
  r.body = buf.substr(0, out);
  r.consumed = in;
  EXPECT_EQ(d.body_bytes(), out);
  return r;
}

TEST(ChunkedDecoder, DecodesChunksInPlaceAndStopsRightAfterTheFinalCrlf) {
  std::string wire = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET /next";
  for (size_t piece : {0, 1, 2, 3, 7}) {
    SCOPED_TRACE(piece);
    Decoded d = decode(wire, piece);
    EXPECT_EQ(d.result, Result::done);
    EXPECT_EQ(d.body, "hello world");
    EXPECT_EQ(wire.substr(d.consumed), "GET /next");
  }
}

TEST(ChunkedDecoder, TakesExtensionsLeadingZerosUpperCaseHexAndTrailers) {
  Decoded d = decode(
      "3;a=b;c=\"d;e\" ; f\r\nabc\r\n00A \t;x\r\n0123456789\r\n0;last\r\nT: 1\r\nU:\r\n\r\n");
  EXPECT_EQ(d.result, Result::done);
  EXPECT_EQ(d.body, "abc0123456789");
  // Sixteen significant digits is the most a size may have; zeros before them do not count.
  d = decode("00000000000000000000000000000001\r\nx\r\n0\r\n\r\n");
  EXPECT_EQ(d.result, Result::done);
  EXPECT_EQ(d.body, "x");
}

TEST(ChunkedDecoder, IsIncompleteUntilTheFinalCrlf) {
  for (std::string wire : {"5\r\nhel", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n",
                           "5\r\nhello\r\n0\r\nT: 1\r\n", "5\r\nhello\r\n0\r\n\r"}) {
    SCOPED_TRACE(wire);
    EXPECT_EQ(decode(wire).result, Result::more);
  }
}

TEST(ChunkedDecoder, RefusesLooseFraming) {
  for (std::string wire : {
           "5\nhello\r\n0\r\n\r\n",                    // bare LF after the size
           "5\rhello\r\n0\r\n\r\n",                    // bare CR after the size
           "5\r\nhelloXY0\r\n\r\n",                    // two bytes that are not CRLF after the data
           "5\r\nhello\n0\r\n\r\n",                    // bare LF after the data
           "5\r\nhello\r\n0\n\r\n",                    // bare LF after the last chunk
           "5\r\nhello\r\n0\r\n\n",                    // bare LF as the final line
           "5\r\nhello\r\n0\r\nT: 1\n\r\n",            // bare LF in the trailer section
           "5\r\nhello\r\n0\r\nT: 1\r\n x\r\n\r\n",    // obs-fold in a trailer
           "5\r\nhello\r\n0\r\nT : 1\r\n\r\n",         // space before a trailer's colon
           "5\r\nhello\r\n0\r\nT\r\n\r\n",             // a trailer line without a colon
           "5\r\nhello\r\n0\r\nT: \x01\r\n\r\n",       // a control byte in a trailer value
           " 5\r\nhello\r\n0\r\n\r\n",                 // whitespace before the size
           "5 \r\nhello\r\n0\r\n\r\n",                 // BWS not followed by ';'
           "5x\r\nhello\r\n0\r\n\r\n",                 // junk after the size
           "0x5\r\nhello\r\n0\r\n\r\n",                // a C hex prefix
           "g\r\nhello\r\n0\r\n\r\n",                  // no hex digit at all
           "\r\nhello\r\n0\r\n\r\n",                   // an empty size line
           "-5\r\nhello\r\n0\r\n\r\n",                 // a sign
           "5;a\rb\r\nhello\r\n0\r\n\r\n",             // bare CR in an extension
           "10000000000000005\r\nhello\r\n0\r\n\r\n",  // 2^64 + 5: not to be read as 5
           "FFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n",
       }) {
    SCOPED_TRACE(wire);
    EXPECT_EQ(decode(wire).result, Result::bad);
    EXPECT_EQ(decode(wire, 1).result, Result::bad);
  }
  std::string nul = "5;a";
  nul += '\0';
  nul += "b\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(decode(nul).result, Result::bad);
}

TEST(ChunkedDecoder, HoldsTheBodyTheFramingAndTheTrailersToTheirLimits) {
  EXPECT_EQ(decode("5\r\nhello\r\n0\r\n\r\n", 0, 5).result, Result::done);
  EXPECT_EQ(decode("6\r\nhello!\r\n0\r\n\r\n", 0, 5).result, Result::body_too_large);
  // Over the limit across chunks, and told at the size line, before any data of it comes.
  EXPECT_EQ(decode("3\r\nabc\r\n3\r\n", 0, 5).result, Result::body_too_large);
  // Framing is held to the body limit plus an allowance: a stream of tiny chunks is not free.
  std::string ext = "1;" + std::string(ChunkedDecoder::kFramingAllowance + 100, 'x');
  EXPECT_EQ(decode(ext, 0, 64).result, Result::body_too_large);
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "1\r\nx\r\n";
  EXPECT_EQ(decode(many, 0, 1000).result, Result::body_too_large);
  // The trailer section has a limit of its own.
  std::string trailers = "0\r\nT: " + std::string(200, 'v') + "\r\n\r\n";
  EXPECT_EQ(decode(trailers, 0, 1 << 20, 100).result, Result::trailers_too_large);
  EXPECT_EQ(decode(trailers, 0, 1 << 20, 300).result, Result::done);
}

// One chunk-size line, CRLF included, is held to max_line bytes, and the answer comes with
// the first byte past it: a line without end is never waited for.
TEST(ChunkedDecoder, RefusesAChunkSizeLineAsSoonAsItPassesItsBound) {
  const size_t max_line = 32;
  std::string fits = "5;" + std::string(max_line - 4, 'x') + "\r\n";  // exactly max_line
  ASSERT_EQ(fits.size(), max_line);
  std::string last = "0" + fits.substr(1);
  for (size_t piece : {0, 1, 5}) {
    SCOPED_TRACE(piece);
    EXPECT_EQ(decode(fits + "hello\r\n" + last + "\r\n", piece, 1 << 20, 8192, max_line).result,
              Result::done);
    // One byte more, with no CR anywhere: refused at that byte.
    std::string endless = "5;" + std::string(max_line - 1, 'x');
    Decoded d = decode(endless + std::string(4096, 'x'), piece, 1 << 20, 8192, max_line);
    EXPECT_EQ(d.result, Result::line_too_long);
    EXPECT_EQ(d.consumed, endless.size() - 1) << "refused at the first byte past the bound";
    // Whitespace before the extensions and the last chunk's line count alike.
    EXPECT_EQ(decode("0 \t;" + std::string(max_line, 'x'), piece, 1 << 20, 8192, max_line).result,
              Result::line_too_long);
  }
  // Each line has the whole bound: many lines that each fit are fine.
  std::string many;
  for (int i = 0; i < 50; ++i) many += "1;" + std::string(max_line - 5, 'e') + "\r\nx\r\n";
  Decoded d = decode(many + "0\r\n\r\n", 0, 1 << 20, 8192, max_line);
  EXPECT_EQ(d.result, Result::done);
  EXPECT_EQ(d.body, std::string(50, 'x'));
}

// The extensions of all lines together are held to max_extensions bytes.
TEST(ChunkedDecoder, RefusesExtensionsPastTheirBoundForTheWholeMessage) {
  const size_t max_extensions = 100;
  std::string line = "1;" + std::string(18, 'e') + "\r\nx\r\n";  // 20 bytes of extension
  std::string five, six;
  for (int i = 0; i < 5; ++i) five += line;
  six = five + line;
  for (size_t piece : {0, 1}) {
    SCOPED_TRACE(piece);
    EXPECT_EQ(decode(five + "0\r\n\r\n", piece, 1 << 20, 8192, 1024, max_extensions).result,
              Result::done);
    EXPECT_EQ(decode(six + "0\r\n\r\n", piece, 1 << 20, 8192, 1024, max_extensions).result,
              Result::extensions_too_large);
  }
  // Bytes of size lines without extensions do not count.
  std::string plain;
  for (int i = 0; i < 200; ++i) plain += "1\r\nx\r\n";
  EXPECT_EQ(decode(plain + "0\r\n\r\n", 0, 1 << 20, 8192, 1024, max_extensions).result,
            Result::done);
}

}  // namespace
}  // namespace hs
