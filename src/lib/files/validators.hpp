// Validators and conditional requests (RFC 9110 sections 8.8 and 13): the ETag and
// Last-Modified of a file, and what If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since and If-Range make of them.
//
// The ETag is strong, "<mtime in hex>-<size in hex>" in quotes, the form nginx uses, so that
// a site moved between the two keeps its caches' validators. Strong means: two responses with
// the same tag have the same bytes. A file rewritten in place within one second to the same
// size would keep its tag; sites are deployed by replacing files, which changes the mtime, and
// nginx makes the same promise. No allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include <httpserver/http.hpp>

namespace hs::static_files {

struct Validators {
  std::string_view etag;  // with its quotes, no W/
  std::time_t last_modified = 0;
};

// Writes the ETag of a file of `size` bytes modified at `mtime` into `out` (at least 36
// bytes); returns its length.
size_t format_etag(uint64_t size, std::time_t mtime, char* out) noexcept;

// Reads an HTTP-date in any of the three forms a recipient must accept (section 5.6.7):
// IMF-fixdate, RFC 850 and asctime. False when `text` is none of them.
bool parse_http_date(std::string_view text, std::time_t& out) noexcept;

// Whether the list of entity tags in an If-Match or If-None-Match field matches `etag`: "*"
// matches any, `weak` compares without the W/ prefix (section 8.8.3.2), else W/ tags never
// match. A malformed list matches nothing.
bool etag_list_matches(std::string_view field, std::string_view etag, bool weak) noexcept;

// What the preconditions of `request` (GET or HEAD) say, in the order of section 13.2.2:
// 412 (If-Match or If-Unmodified-Since failed), 304 (If-None-Match or If-Modified-Since: the
// client's copy is current), or 0: answer as usual.
int evaluate_preconditions(const Request& request, const Validators& current) noexcept;

// Whether a Range may be honoured under the request's If-Range (section 13.1.5): true when
// there is none, or when its entity tag matches strongly or its date equals Last-Modified.
bool if_range_holds(const Request& request, const Validators& current) noexcept;

}  // namespace hs::static_files
