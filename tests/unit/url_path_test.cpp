#include "files/url_path.hpp"

#include <gtest/gtest.h>

namespace hs::static_files {
namespace {

TEST(UrlPath, DecodesPercentEscapesIntoANameBelowTheRoot) {
  const std::pair<const char*, const char*> cases[] = {
      {"/", ""},
      {"", ""},
      {"/index.html", "index.html"},
      {"/a/b/c.txt", "a/b/c.txt"},
      {"/dir/", "dir/"},
      {"//double//slash", "double//slash"},
      {"/with%20space.txt", "with space.txt"},
      {"/%E2%82%AC.txt", "\xE2\x82\xAC.txt"},  // UTF-8
      {"/%41%42%43", "ABC"},
      {"/%2e/x", "./x"},  // "." stays where it is
      {"/.hidden", ".hidden"},
      {"/..x/y..", "..x/y.."},  // not ".." segments
      {"/a+b", "a+b"},          // '+' is not a space in a path
      {"/100%25", "100%"},
  };
  std::string out;
  for (auto [path, name] : cases) {
    EXPECT_EQ(decode_path(path, out), PathVerdict::ok) << path;
    EXPECT_EQ(out, name) << path;
  }
}

TEST(UrlPath, RefusesEveryWayOutAndEveryHiddenSeparator) {
  const char* forbidden[] = {
      "/..",     "/../secret",  "/a/../../secret", "/a/..",   "/%2e%2e/secret", "/%2E%2E/x",
      "/.%2e/x", "/%2e./x",     "/a/%2e%2e",       "/a%2fb",  "/a%2F..%2Fb",    "/..%2fsecret",
      "/a\\b",   "/..\\secret", "/a%5cb",          "/a%5C..", "/a%00.html",     "/%00",
  };
  std::string out;
  for (const char* path : forbidden)
    EXPECT_EQ(decode_path(path, out), PathVerdict::forbidden) << path;
}

TEST(UrlPath, RefusesMalformedEscapes) {
  std::string out;
  for (const char* path : {"/%", "/%4", "/a%zz", "/%g0", "/%0g", "/x%", "/%%41"})
    EXPECT_EQ(decode_path(path, out), PathVerdict::bad_escape) << path;
}

TEST(UrlPath, EncodesASegmentSoThatItDecodesToItself) {
  std::string encoded;
  std::string_view name = "a b&c<d>\"e'%f/g?h#\xC3\xA9";
  append_encoded_segment(encoded, name);
  EXPECT_EQ(encoded, "a%20b%26c%3Cd%3E%22e%27%25f%2Fg%3Fh%23%C3%A9");
  std::string back;
  // An encoded '/' is refused as a path; decode the pieces around it instead.
  ASSERT_EQ(decode_path("/a%20b%26c%3Cd%3E%22e%27%25f", back), PathVerdict::ok);
  EXPECT_EQ(back, "a b&c<d>\"e'%f");
}

}  // namespace
}  // namespace hs::static_files
