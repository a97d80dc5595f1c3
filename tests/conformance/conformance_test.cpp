// RFC 9112 conformance, black box: raw request bytes to the httpserver binary over loopback.
//
// Each case names the section it checks, the bytes sent, the statuses expected in order and
// what happens to the connection afterwards:
//   "close"  the server closes (EOF or reset) and sends nothing more;
//   "keep"   the connection stays usable: a follow-up GET (Connection: close) on it gets
//            exactly one response, a 200. That also proves no smuggled request was hidden in
//            the case's bytes: a second response would show up here.
// Every case runs twice: the request in one send, and one byte at a time (TCP_NODELAY, a
// short pause between the bytes of a request up to 512 bytes), so incremental parsing must
// reach the same verdict.
//
// Environment:
//   HTTPSERVER=path      the binary (set by meson)
//   NGINX_PORT=N         run the cases against a server already listening on 127.0.0.1:N
//                        instead (compare_nginx.sh); nothing is asserted, outcomes are printed
//   CONFORMANCE_TABLE=1  print one "OBSERVED" line a case (compare_nginx.sh sets it)
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blackbox.hpp"

namespace {

using bb::Client;
using bb::ParsedResponse;

const char* const kBody = "package main #14";

struct Case {
  const char* name;     // a sentence, the test's name
  const char* section;  // where the rule is
  std::string request;
  std::string expect;     // e.g. "400 close", "200 200 keep"
  std::string also = "";  // another outcome the RFC equally allows ("" for none)
  const char* note = "";  // why, where it is not obvious
};

std::string chunked_post(const std::string& chunks) {
  return "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
}
std::string with_field(const std::string& field_line) {
  return "GET / HTTP/1.1\r\nHost: a\r\n" + field_line + "\r\n\r\n";
}
const std::string kNext = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

std::vector<Case> cases() {
  using namespace std::string_literals;
  return {
      // --- RFC 9112 section 3: request line --------------------------------------------
      {"OriginFormIsServed", "RFC 9112 3.2.1", "GET /index.html?q=1 HTTP/1.1\r\nHost: a\r\n\r\n",
       "200 keep"},
      {"AbsoluteFormIsServed", "RFC 9112 3.2.2", "GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
       "200 keep"},
      {"AsteriskFormOfOptionsIsServed", "RFC 9112 3.2.4", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
       "200 keep"},
      {"AsteriskFormOfGetIsRejected", "RFC 9112 3.2.4, 3", "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
       "400 close", "", "asterisk-form is only for a server-wide OPTIONS"},
      {"AuthorityFormOfGetIsRejected", "RFC 9112 3.2.3, 3", "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n",
       "400 close", "", "authority-form is only for CONNECT"},
      {"ConnectIsNotImplemented", "RFC 9110 9.3.6", "CONNECT a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n",
       "501 keep", "", "a 2xx would promise a tunnel; we are no proxy"},
      {"LowercaseHttpNameIsRejected", "RFC 9112 2.3", "GET / http/1.1\r\nHost: a\r\n\r\n",
       "400 close", "", "HTTP-name is case-sensitive"},
      {"TwoSpacesAfterMethodAreRejected", "RFC 9112 3", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
       "400 close", "", "request-line = method SP request-target SP HTTP-version"},
      {"TwoSpacesBeforeVersionAreRejected", "RFC 9112 3", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
       "400 close"},
      {"SpaceAfterVersionIsRejected", "RFC 9112 3", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
       "400 close"},
      {"SpaceInsideTargetIsRejected", "RFC 9112 3.2", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
       "400 close"},
      {"ControlCharacterInTargetIsRejected", "RFC 9112 3.2",
       "GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", "400 close"},
      {"MissingVersionIsRejected", "RFC 9112 3", "GET /\r\nHost: a\r\n\r\n", "400 close", "",
       "a line without HTTP-version followed by fields is no HTTP/0.9 request either"},
      {"NonTokenMethodIsRejected", "RFC 9112 3.1, RFC 9110 9.1",
       "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "400 close", "",
       "not a token, so not a method: the request-line is invalid (400), not unknown (501)"},
      {"UnknownMethodIsNotImplemented", "RFC 9110 9.1", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n",
       "501 close"},
      {"MethodIsCaseSensitive", "RFC 9110 9.1", "get / HTTP/1.1\r\nHost: a\r\n\r\n", "501 close",
       "", "\"get\" is a valid token but no method we implement"},
      {"Http20IsNotSupported", "RFC 9110 15.6.6", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505 close"},
      {"Http30IsNotSupported", "RFC 9110 15.6.6, RFC 9112 2.3", "GET / HTTP/3.0\r\nHost: a\r\n\r\n",
       "505 close", "", "HTTP/3.0 is a well-formed HTTP-version with a major we do not implement"},
      {"HigherMinorVersionIsServedAsHttp11", "RFC 9110 2.5", "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
       "200 keep", "", "SHOULD process as the highest 1.x minor we implement"},
      {"TwoDigitMinorVersionIsRejected", "RFC 9112 2.3", "GET / HTTP/1.10\r\nHost: a\r\n\r\n",
       "400 close", "", "HTTP-version = HTTP-name \"/\" DIGIT \".\" DIGIT"},
      {"EmptyLineBeforeRequestLineIsIgnored", "RFC 9112 2.2",
       "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "200 keep"},

      // --- RFC 9112 section 5, RFC 9110 section 5: fields ------------------------------
      {"SpaceBeforeColonIsRejected", "RFC 9112 5.1", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
       "400 close"},
      {"TabBeforeColonIsRejected", "RFC 9112 5.1", with_field("X-A\t: b"), "400 close"},
      {"ObsFoldIsRejected", "RFC 9112 5.2", with_field("X-A: b\r\n c"), "400 close"},
      {"WhitespaceBeforeFirstFieldIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
       "400 close"},
      {"EmptyFieldNameIsRejected", "RFC 9110 5.1", with_field(": b"), "400 close", "",
       "field-name = token, at least one tchar"},
      {"ParenthesisInFieldNameIsRejected", "RFC 9110 5.1", with_field("X(A): b"), "400 close"},
      {"QuoteInFieldNameIsRejected", "RFC 9110 5.1", with_field("X\"A: b"), "400 close"},
      {"FieldLineWithoutColonIsRejected", "RFC 9112 5", with_field("X-A b"), "400 close"},
      {"NulInFieldValueIsRejected", "RFC 9110 5.5", with_field("X-A: b\0c"s), "400 close"},
      {"ControlCharacterInFieldValueIsRejected", "RFC 9110 5.5", with_field("X-A: b\x01z"),
       "400 close"},
      {"DelInFieldValueIsRejected", "RFC 9110 5.5",
       with_field("X-A: b\x7f"
                  "c"),
       "400 close"},
      {"TabInFieldValueIsAccepted", "RFC 9110 5.5", with_field("X-A: b\tc"), "200 keep"},
      {"ObsTextInFieldValueIsAccepted", "RFC 9110 5.5",
       with_field("X-A: b\xff"
                  "c"),
       "200 keep"},
      {"WhitespaceAroundFieldValueIsAccepted", "RFC 9112 5.1", with_field("X-A:   b   "),
       "200 keep"},
      {"TwoHundredFieldsAreAccepted", "RFC 9110 5.4",
       [] {
         std::string fields = "GET / HTTP/1.1\r\nHost: a\r\n";
         for (int i = 0; i < 199; ++i) fields += "X-F" + std::to_string(i % 10) + ": vv\r\n";
         return fields + "\r\n";
       }(),
       "200 keep", "", "2 KiB of fields: only the header bytes limit their number"},
      {"FieldsOverTheByteLimitAreRejected", "RFC 9110 5.4, RFC 6585 5",
       [] {
         std::string fields = "GET / HTTP/1.1\r\nHost: a\r\n";
         for (int i = 0; i < 1400; ++i) fields += "X: v\r\n";
         return fields + "\r\n";
       }(),
       "431 close", "", "1,400 fields of 6 bytes pass the default 8 KiB"},
      {"LongFieldValueWithinTheLimitIsAccepted", "RFC 9112 5",
       with_field("X-A: " + std::string(7000, 'v')), "200 keep", "",
       "7000 bytes under the default 8 KiB header limit"},

      // --- RFC 9112 section 6: message body length -------------------------------------
      {"ContentLengthBodyIsRead", "RFC 9112 6.2",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + kNext, "200 200 keep"},
      {"ContentLengthWithTransferEncodingIsRejected", "RFC 9112 6.3 (3)",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n",
       "400 close", "", "MAY reject; a server that forwards nothing has no reason to guess"},
      {"TransferEncodingWithContentLengthIsRejected", "RFC 9112 6.3 (3)",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
       "0\r\n\r\n",
       "400 close"},
      {"DifferingContentLengthsAreRejected", "RFC 9112 6.3 (5)",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
       "400 close"},
      {"IdenticalContentLengthsAreRejected", "RFC 9110 8.6, RFC 9112 6.3 (5)",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
       "400 close", "",
       "MAY reject or collapse; llhttp rejects any repeated Content-Length and we keep that: "
       "no legitimate client sends it, and a proxy in front may have framed it differently"},
      {"ContentLengthListIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", "400 close", "",
       "MAY reject or collapse identical members; we reject, as for repeated fields"},
      {"PlusSignedContentLengthIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", "400 close", "",
       "Content-Length = 1*DIGIT"},
      {"NegativeContentLengthIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nhello", "400 close"},
      {"ContentLengthWithInnerSpaceIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 5\r\n\r\nhello", "400 close"},
      {"HexContentLengthIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", "400 close"},
      {"EmptyContentLengthIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", "400 close"},
      {"OverflowingContentLengthIsRejected", "RFC 9112 6.3 (5)",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\nhello",
       "400 close", "413 close", "beyond 64 bits the length is not a number we can hold"},
      {"ContentLengthWithSurroundingSpaceIsAccepted", "RFC 9112 5.1",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  5  \r\n\r\nhello", "200 keep", "",
       "OWS around a field value is not part of it"},
      {"TransferEncodingNotEndingInChunkedIsRejected", "RFC 9112 6.3 (4)",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "400 close"},
      {"ChunkedFollowedByGzipIsRejected", "RFC 9112 6.3 (4)",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
       "400 close"},
      {"ChunkedTwiceIsRejected", "RFC 9112 6.1",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
       "400 close", "", "a sender MUST NOT apply chunked more than once"},
      {"IdentityTransferEncodingIsRejected", "RFC 9112 6.3 (4)",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", "400 close"},
      {"UnknownCodingBeforeChunkedIsNotImplemented", "RFC 9112 6.1",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
       "501 close", "",
       "a transfer coding the server does not understand SHOULD get 501; handing the handler a "
       "still gzip-coded body as if decoded is wrong"},
      {"ChunkedIsCaseInsensitive", "RFC 9112 7",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", "200 keep"},
      {"TransferEncodingOnHttp10IsRejected", "RFC 9112 6.1",
       "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400 close",
       "",
       "MUST treat the framing as faulty and close: we refuse it (as nginx does) rather than "
       "guess where a body framed for another reader ends"},
      {"TransferEncodingOnHttp10KeepAliveIsRejectedAndClosed", "RFC 9112 6.1, 11.2",
       "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n0\r\n\r\n" +
           kNext,
       "400 close", "", "keep-alive does not save it: the request behind it is never read"},
      {"TransferEncodingWithContentLengthOnHttp10IsRejected", "RFC 9112 6.1",
       "POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\nhello" +
           kNext,
       "400 close", "", "even with a Content-Length"},
      {"TabsAroundContentLengthAreAccepted", "RFC 9110 5.6.3, RFC 9112 5.1",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\t5\t\r\n\r\nhello" + kNext, "200 200 keep",
       "", "OWS is SP or HTAB; llhttp 8 takes only SP in this field"},
      {"MixedWhitespaceAroundContentLengthIsAccepted", "RFC 9110 5.6.3",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t 5 \t \r\n\r\nhello" + kNext,
       "200 200 keep"},
      {"TabInsideContentLengthIsRejected", "RFC 9110 8.6",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\t5\r\n\r\nhello", "400 close"},
      {"TabsAroundTransferEncodingAreAccepted", "RFC 9110 5.6.3",
       "POST / HTTP/1.1\r\nHost: "
       "a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
           kNext,
       "200 200 keep"},
      {"TabsAroundConnectionCloseAreHonoured", "RFC 9110 5.6.3, RFC 9112 9.6",
       "GET / HTTP/1.1\r\nHost: a\r\nConnection:\tclose\t\r\n\r\n" + kNext, "200 close"},
      {"TabAfterCommaInConnectionListIsHonoured", "RFC 9110 5.6.1, 5.6.3",
       "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive,\tclose\r\n\r\n" + kNext, "200 close",
       "", "#rule lists are separated by a comma and OWS"},
      {"TabsAroundHttp10KeepAliveAreHonoured", "RFC 9110 5.6.3, RFC 9112 C.2.2",
       "GET / HTTP/1.0\r\nConnection:\tkeep-alive\t\r\n\r\n", "200 keep"},
      {"TabsAroundHostAreAccepted", "RFC 9110 5.6.3, RFC 9112 3.2",
       "GET / HTTP/1.1\r\nHost:\ta\t\r\n\r\n", "200 keep"},
      {"TabsAroundAnyFieldValueAreAccepted", "RFC 9110 5.6.3", with_field("X-A:\t b \t"),
       "200 keep"},
      {"BodyOnGetIsConsumed", "RFC 9112 6.3 (6)",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + kNext, "200 200 keep"},
      {"BodyThatLooksLikeARequestIsNotServed", "RFC 9112 6.3 (6), 11.2",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(kNext.size()) + "\r\n\r\n" +
           kNext,
       "200 keep", "", "the follow-up gets exactly one response: the body was not a request"},
      {"RequestWithoutLengthHasNoBody", "RFC 9112 6.3 (7)",
       "POST / HTTP/1.1\r\nHost: a\r\n\r\n" + kNext, "200 200 keep"},

      // --- RFC 9112 section 7: chunked transfer coding ---------------------------------
      {"ChunkedBodyIsDecoded", "RFC 9112 7.1", chunked_post("2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
       "200 keep"},
      {"ChunkedRequestIsFollowedByThePipelinedOne", "RFC 9112 7.1",
       chunked_post("5\r\nhello\r\n0\r\n\r\n") + kNext, "200 200 keep"},
      {"ChunkExtensionIsAccepted", "RFC 9112 7.1.1", chunked_post("5;a=b\r\nhello\r\n0\r\n\r\n"),
       "200 keep"},
      {"ChunkExtensionWithoutValueIsAccepted", "RFC 9112 7.1.1",
       chunked_post("5;a\r\nhello\r\n0\r\n\r\n"), "200 keep"},
      {"QuotedChunkExtensionIsAccepted", "RFC 9112 7.1.1",
       chunked_post("5;a=\"b;c\"\r\nhello\r\n0\r\n\r\n"), "200 keep"},
      {"SeveralChunkExtensionsAreAccepted", "RFC 9112 7.1.1",
       chunked_post("5;a=b;c=d\r\nhello\r\n0\r\n\r\n"), "200 keep", "",
       "chunk-ext = *( BWS \";\" BWS chunk-ext-name [ BWS \"=\" BWS chunk-ext-val ] )"},
      {"ChunkExtensionOnLastChunkIsAccepted", "RFC 9112 7.1.1",
       chunked_post("5\r\nhello\r\n0;x=y\r\n\r\n"), "200 keep"},
      {"NonHexChunkSizeIsRejected", "RFC 9112 7.1", chunked_post("g\r\nhello\r\n0\r\n\r\n"),
       "400 close"},
      {"OverflowingChunkSizeIsRejected", "RFC 9112 7.1",
       chunked_post("FFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n"), "400 close"},
      {"ChunkSizeThatWrapsTo64BitsIsRejected", "RFC 9112 7.1",
       chunked_post("10000000000000005\r\nhello\r\n0\r\n\r\n"), "400 close", "",
       "2^64 + 5 must not be read as 5"},
      {"MissingCrlfAfterChunkDataIsRejected", "RFC 9112 7.1", chunked_post("5\r\nhelloX0\r\n\r\n"),
       "400 close"},
      {"BareLfAfterChunkSizeIsRejected", "RFC 9112 7.1, 2.2", chunked_post("5\nhello\r\n0\r\n\r\n"),
       "400 close"},
      {"BareLfAfterChunkDataIsRejected", "RFC 9112 7.1, 2.2", chunked_post("5\r\nhello\n0\r\n\r\n"),
       "400 close"},
      {"BareLfAfterLastChunkIsRejected", "RFC 9112 7.1, 2.2", chunked_post("5\r\nhello\r\n0\n\r\n"),
       "400 close"},
      {"BareLfEndingChunkedBodyIsRejected", "RFC 9112 7.1, 2.2",
       chunked_post("5\r\nhello\r\n0\r\n\n"), "400 close"},
      {"LongChunkExtensionWithinTheBoundIsAccepted", "RFC 9112 7.1.1",
       chunked_post("5;a=" + std::string(1000, 'x') + "\r\nhello\r\n0\r\n\r\n") + kNext,
       "200 200 keep", "", "a chunk-size line may hold 1 KiB, extensions and CRLF included"},
      {"ChunkSizeLineOverItsBoundIsRejected", "RFC 9112 7.1.1",
       chunked_post("5;a=" + std::string(1100, 'x') + "\r\nhello\r\n0\r\n\r\n"), "413 close", "",
       "a server ought to limit chunk extensions and answer 4xx past the limit"},
      {"EndlessChunkExtensionIsRejected", "RFC 9112 7.1.1",
       chunked_post("5;" + std::string(3000, 'x')), "413 close", "",
       "answered once the bound is passed, with no CRLF ever sent"},
      {"ChunkExtensionsOverTheirTotalBoundAreRejected", "RFC 9112 7.1.1",
       [] {
         std::string chunks;
         for (int i = 0; i < 17; ++i) chunks += "1;" + std::string(1000, 'e') + "\r\nx\r\n";
         return chunked_post(chunks + "0\r\n\r\n");
       }(),
       "413 close", "",
       "each line within its bound, 17,000 bytes of extension in all: 16 KiB is the most"},
      {"TrailerFieldsAreAccepted", "RFC 9112 7.1.2",
       chunked_post("5\r\nhello\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n"), "200 keep"},
      {"BareLfInTrailerSectionIsRejected", "RFC 9112 7.1.2, 2.2",
       chunked_post("5\r\nhello\r\n0\r\nX-Trailer: 1\n\r\n"), "400 close"},

      // --- RFC 9112 section 9: persistence and pipelining -------------------------------
      {"Http11IsPersistentByDefault", "RFC 9112 9.3", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
       "200 keep"},
      {"Http10ClosesByDefault", "RFC 9112 9.3", "GET / HTTP/1.0\r\n\r\n", "200 close"},
      {"Http10KeepAliveIsHonoured", "RFC 9112 9.3, C.2.2",
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "200 keep"},
      {"ConnectionCloseIsHonoured", "RFC 9112 9.6",
       "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "200 close"},
      {"ConnectionCloseAmongOtherOptionsIsHonoured", "RFC 9112 9.6",
       "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", "200 close"},
      {"PipelinedRequestsAreAllAnswered", "RFC 9112 9.3.2",
       "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n"
       "hiGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
       "200 200 200 keep"},
      {"RequestsAfterConnectionCloseAreNotServed", "RFC 9112 9.6",
       "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + kNext, "200 close"},
      {"UnmetExpectationFails", "RFC 9110 10.1.1",
       "GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", "417 close"},

      // --- RFC 9112 section 2.2: line endings ------------------------------------------
      {"BareCrInRequestLineIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\rHost: a\r\n\r\n",
       "400 close"},
      {"BareCrBetweenFieldsIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
       "400 close"},
      {"BareCrInFieldValueIsRejected", "RFC 9112 2.2", with_field("X-A: b\rc"), "400 close"},
      {"BareLfAfterRequestLineIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\nHost: a\r\n\r\n",
       "400 close", "",
       "MAY accept a bare LF; we do not: parsers that disagree on line ends "
       "are a smuggling vector (11.2)"},
      {"BareLfAfterFieldIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
       "400 close"},
      {"BareLfEndingHeadIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\r\nHost: a\r\n\n",
       "400 close"},
      {"BareLfEverywhereIsRejected", "RFC 9112 2.2", "GET / HTTP/1.1\nHost: a\n\n", "400 close"},

      // --- RFC 9112 section 3.2, RFC 9110 section 7.2: Host ----------------------------
      {"MissingHostOnHttp11IsRejected", "RFC 9112 3.2", "GET / HTTP/1.1\r\n\r\n", "400 close"},
      {"MissingHostOnHttp10IsAccepted", "RFC 9112 3.2", "GET / HTTP/1.0\r\n\r\n", "200 close"},
      {"TwoHostFieldsAreRejected", "RFC 9112 3.2", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
       "400 close"},
      {"TwoIdenticalHostFieldsAreRejected", "RFC 9112 3.2",
       "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "400 close"},
      {"HostWithSpaceIsRejected", "RFC 9112 3.2", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
       "400 close"},
      {"HostWithSlashIsRejected", "RFC 9112 3.2", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
       "400 close"},
      {"HostWithUserinfoIsRejected", "RFC 9112 3.2, RFC 9110 4.2.4",
       "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "400 close"},
      {"HostWithPortIsAccepted", "RFC 9110 7.2", "GET / HTTP/1.1\r\nHost: a:8080\r\n\r\n",
       "200 keep"},
      {"Ipv6LiteralHostIsAccepted", "RFC 9110 7.2", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
       "200 keep"},
      {"EmptyHostIsAccepted", "RFC 9112 3.2", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "200 keep",
       "400 close", "a client MUST send an empty Host when the target has no authority"},

      // --- RFC 9112 section 11.2: request smuggling shapes -----------------------------
      {"ClTeSmugglingIsRejected", "RFC 9112 6.3 (3), 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\nG",
       "400 close"},
      {"TeClSmugglingIsRejected", "RFC 9112 6.3 (3), 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
       "8\r\nSMUGGLED\r\n0\r\n\r\n",
       "400 close"},
      {"TeWithSpaceBeforeColonIsRejected", "RFC 9112 5.1, 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n"
       "5c\r\nGPOST / HTTP/1.1\r\nHost: a\r\n\r\n0\r\n\r\n",
       "400 close"},
      {"TeXchunkedIsRejected", "RFC 9112 6.3 (4), 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n"
       "5c\r\nGPOST / HTTP/1.1\r\nHost: a\r\n\r\n0\r\n\r\n",
       "400 close"},
      {"TeChunkedThenBogusTeIsRejected", "RFC 9112 6.3 (4), 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
       "0\r\n\r\n",
       "400 close"},
      {"TeWithVerticalTabIsRejected", "RFC 9110 5.5, 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b"
       "chunked\r\n\r\n0\r\n\r\n",
       "400 close"},
      {"TeFoldedOntoNextLineIsRejected", "RFC 9112 5.2, 11.2",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
       "400 close"},
      {"ChunkSizeWithLeadingSpaceIsRejected", "RFC 9112 7.1, 11.2",
       chunked_post(" 5\r\nhello\r\n0\r\n\r\n"), "400 close"},
      {"ChunkSizeWithTrailingJunkIsRejected", "RFC 9112 7.1, 11.2",
       chunked_post("5x\r\nhello\r\n0\r\n\r\n"), "400 close"},
      {"ChunkSizeWithTrailingSpaceIsRejected", "RFC 9112 7.1, 11.2",
       chunked_post("5 \r\nhello\r\n0\r\n\r\n"), "400 close", "",
       "BWS is only allowed before a ';'"},
      {"ChunkSizeWithHexPrefixIsRejected", "RFC 9112 7.1, 11.2",
       chunked_post("0x5\r\nhello\r\n0\r\n\r\n"), "400 close"},
      {"NulInChunkExtensionIsRejected", "RFC 9112 7.1.1, 11.2",
       chunked_post("5;a\0b\r\nhello\r\n0\r\n\r\n"s), "400 close"},
      {"BareCrInChunkExtensionIsRejected", "RFC 9112 7.1.1, 2.2",
       chunked_post("5;a\rb\r\nhello\r\n0\r\n\r\n"), "400 close"},
  };
}

struct Param {
  size_t index;
  bool byte_by_byte;
};

const std::vector<Case>& table();

void PrintTo(const Param& p, std::ostream* os) {
  *os << table()[p.index].name << (p.byte_by_byte ? " (byte by byte)" : "");
}

const std::vector<Case>& table() {
  static const std::vector<Case> t = cases();
  return t;
}

uint16_t nginx_port() {
  const char* p = std::getenv("NGINX_PORT");
  return p && *p ? static_cast<uint16_t>(std::atoi(p)) : 0;
}

bool print_table() {
  const char* p = std::getenv("CONFORMANCE_TABLE");
  return nginx_port() != 0 || (p && *p && std::string(p) != "0");
}

std::string printable(std::string_view bytes) {
  std::string s;
  for (unsigned char c : bytes) {
    if (c == '\r') {
      s += "\\r";
    } else if (c == '\n') {
      s += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      s += hex;
    } else {
      s += static_cast<char>(c);
    }
  }
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

class Conformance : public ::testing::TestWithParam<Param> {
 protected:
  static void SetUpTestSuite() { start(); }
  static void TearDownTestSuite() { server_.reset(); }

  static void start() {
    if (nginx_port() != 0) return;
    std::string why;
    server_ = bb::ServerProcess::start({}, &why);
    if (!server_) std::cerr << "cannot start the server: " << why << "\n";
  }

  static uint16_t port() {
    if (uint16_t p = nginx_port()) return p;
    return server_ ? server_->port() : 0;
  }

  void TearDown() override {
    // A case that kills the server is a failure of its own; the next case gets a new one.
    if (nginx_port() == 0 && server_ && !server_->running()) {
      ADD_FAILURE() << "the server exited during this case; its output:\n" << server_->output();
      start();
    }
  }

  // Sends the request and reports what happened, in the table's words.
  static std::string observe(const Case& c, bool byte_by_byte, std::string* detail) {
    Client client(port());
    if (!client.connected()) return "no connection";
    bool sent = true;
    if (byte_by_byte) {
      int one = 1;
      ::setsockopt(client.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // A pause after each byte of a short request; a long one (a flood of fields or of chunk
      // extensions) is still sent a byte per send(), but without it, to stay quick.
      bool pause = c.request.size() <= 512;
      for (size_t i = 0; i < c.request.size() && sent; ++i) {
        sent = client.send(std::string_view(c.request).substr(i, 1));
        if (pause) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    } else {
      sent = client.send(c.request);
    }
    (void)sent;  // the server may answer and close before everything is sent
    size_t want = 0;
    for (size_t p = 0; (p = c.expect.find(' ', p)) != std::string::npos; ++p) ++want;
    bool expect_close = c.expect.size() >= 5 && c.expect.substr(c.expect.size() - 5) == "close";

    std::string outcome;
    auto add = [&](const ParsedResponse& r) {
      outcome += std::to_string(r.status) + " ";
      if (r.status == 200 && r.body != kBody) *detail += "a 200 with body '" + r.body + "'; ";
    };
    for (size_t i = 0; i < want; ++i) {
      ParsedResponse r = client.read_response(3000);
      if (r.status == 0) break;
      add(r);
    }
    if (expect_close) {
      std::string rest = client.read_until_close(2000);
      std::string unparsed;
      for (const auto& r : bb::parse_all(rest, &unparsed)) add(r);
      if (!unparsed.empty()) *detail += "unparsed bytes '" + printable(unparsed) + "'; ";
      outcome += client.closed_by_peer(0) ? "close" : "open";
      return outcome;
    }
    // Keep-alive: the connection must still carry a request, and answer only that one.
    bool follow_sent =
        client.send("GET /follow-up HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    std::string rest = client.read_until_close(3000);
    std::string unparsed;
    auto follow = bb::parse_all(rest, &unparsed);
    if (!unparsed.empty()) *detail += "unparsed bytes '" + printable(unparsed) + "'; ";
    if (follow.size() == 1 && follow[0].status == 200 && follow[0].body == kBody) {
      outcome += "keep";
    } else if (follow.empty() && (!follow_sent || client.closed_by_peer(0))) {
      outcome += "close";
    } else {
      outcome += "keep[";
      for (const auto& r : follow) outcome += " " + std::to_string(r.status);
      outcome += " ]";
    }
    return outcome;
  }

  static std::unique_ptr<bb::ServerProcess> server_;
};

std::unique_ptr<bb::ServerProcess> Conformance::server_;

TEST_P(Conformance, Case) {
  const Case& c = table()[GetParam().index];
  bool split = GetParam().byte_by_byte;
  ASSERT_NE(port(), 0) << "no server to test";
  std::string detail;
  std::string seen = observe(c, split, &detail);
  if (print_table())
    std::cout << "OBSERVED\t" << c.name << (split ? "/bytes" : "") << "\t" << c.section << "\t"
              << c.expect << (c.also.empty() ? "" : " | " + c.also) << "\t" << seen << "\t"
              << detail << std::endl;
  if (nginx_port() != 0) return;  // calibration run: nothing to assert
  SCOPED_TRACE(std::string(c.section) + ": " + printable(c.request) +
               (*c.note ? std::string("\n  note: ") + c.note : ""));
  if (c.also.empty()) {
    EXPECT_EQ(seen, c.expect);
  } else {
    EXPECT_TRUE(seen == c.expect || seen == c.also)
        << "seen: " << seen << ", expected: " << c.expect << " or " << c.also;
  }
  EXPECT_EQ(detail, "");
}

std::vector<Param> params(bool byte_by_byte) {
  std::vector<Param> p;
  for (size_t i = 0; i < table().size(); ++i) {
    p.push_back({i, byte_by_byte});
  }
  return p;
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return table()[info.param.index].name;
}

INSTANTIATE_TEST_SUITE_P(Whole, Conformance, ::testing::ValuesIn(params(false)), param_name);
INSTANTIATE_TEST_SUITE_P(ByteByByte, Conformance, ::testing::ValuesIn(params(true)), param_name);

// The order of pipelined responses is visible in their Connection fields: none for a 1.1
// request, keep-alive for a 1.0 request that asked for it, close for the last.
TEST(Pipelining, ResponsesComeInRequestOrder) {
  if (nginx_port() != 0) GTEST_SKIP() << "ours only";
  std::string why;
  auto server = bb::ServerProcess::start({}, &why);
  ASSERT_TRUE(server) << why;
  Client client(server->port());
  ASSERT_TRUE(
      client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                  "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  auto responses = bb::parse_all(client.read_until_close(3000));
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_FALSE(responses[0].has("connection")) << responses[0].raw;
  EXPECT_EQ(responses[1].header("connection"), "keep-alive") << responses[1].raw;
  EXPECT_EQ(responses[2].header("connection"), "close") << responses[2].raw;
  for (const auto& r : responses) EXPECT_EQ(r.status, 200);
}

// Many requests in one send, one connection: every one answered, none lost or doubled.
TEST(Pipelining, AHundredRequestsInOneSendGetAHundredResponses) {
  if (nginx_port() != 0) GTEST_SKIP() << "ours only";
  std::string why;
  auto server = bb::ServerProcess::start({}, &why);
  ASSERT_TRUE(server) << why;
  std::string batch;
  for (int i = 0; i < 99; ++i)
    batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
  batch += "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  Client client(server->port());
  ASSERT_TRUE(client.send(batch));
  std::string rest;
  auto responses = bb::parse_all(client.read_until_close(5000), &rest);
  EXPECT_EQ(responses.size(), 100u);
  EXPECT_EQ(rest, "");
  for (const auto& r : responses) EXPECT_EQ(r.status, 200);
}

}  // namespace
