// Tabs in the values of the fields llhttp interprets become spaces before llhttp reads them;
// every other byte of the head, and everything after it, stays as sent, however the head is
// split into reads.
#include "ows_tabs.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hs {
namespace {

// Feeds `head` in pieces of `piece` bytes (0: at once) and returns the bytes llhttp would see.
std::string filtered(std::string head, size_t piece = 0) {
  OwsTabs tabs;
  tabs.reset();
  for (size_t at = 0; at < head.size();) {
    size_t n = piece == 0 ? head.size() : std::min(piece, head.size() - at);
    tabs.feed(head.data() + at, head.data() + at + n);
    at += n;
  }
  return head;
}

TEST(OwsTabs, MakesTabsSpacesInTheFieldsLlhttpReads) {
  std::string head =
      "POST /a\tb HTTP/1.1\r\nHost:\ta\t\r\ncontent-LENGTH:\t5\t\r\nConnection: "
      "keep-alive,\tclose\r\n"
      "Transfer-Encoding:\tchunked\t\r\nProxy-Connection:\tclose\r\nUpgrade:\tx\r\n"
      "X-Content-Length:\t5\t\r\nContent-Lengthy:\t5\r\n\r\n";
  std::string want =
      "POST /a\tb HTTP/1.1\r\nHost:\ta\t\r\ncontent-LENGTH: 5 \r\nConnection: keep-alive, close\r\n"
      "Transfer-Encoding: chunked \r\nProxy-Connection: close\r\nUpgrade: x\r\n"
      "X-Content-Length:\t5\t\r\nContent-Lengthy:\t5\r\n\r\n";
  for (size_t piece : {0, 1, 2, 3, 7, 16}) {
    SCOPED_TRACE(piece);
    EXPECT_EQ(filtered(head, piece), want);
  }
}

TEST(OwsTabs, StopsAtTheEndOfTheHead) {
  // A body (or the next request) that looks like a field line keeps its tabs.
  std::string head = "POST / HTTP/1.1\r\nContent-Length:\t20\r\n\r\nContent-Length:\t5\r\n\r\n";
  std::string want = "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\nContent-Length:\t5\r\n\r\n";
  for (size_t piece : {0, 1, 5}) EXPECT_EQ(filtered(head, piece), want) << piece;
  // Empty lines before the request line are not the end of the head.
  EXPECT_EQ(filtered("\r\n\r\nGET / HTTP/1.1\r\nConnection:\tclose\r\n\r\n"),
            "\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  // A bare LF ends it for llhttp too (and the connection refuses such a head).
  EXPECT_EQ(filtered("GET / HTTP/1.1\nConnection:\tclose\n\nConnection:\tclose\n"),
            "GET / HTTP/1.1\nConnection: close\n\nConnection:\tclose\n");
}

TEST(OwsTabs, ReadsNoNameIntoTheRequestLine) {
  // The request line is never taken for a field, whatever it holds.
  EXPECT_EQ(filtered("GET /Connection:\tx HTTP/1.1\r\n\r\n"),
            "GET /Connection:\tx HTTP/1.1\r\n\r\n");
}

}  // namespace
}  // namespace hs
