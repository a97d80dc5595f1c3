// URL path: a request's path turned into a file name relative to the served root, or refused.
//
// Percent-escapes are decoded (RFC 3986 section 2.1). What could reach outside the root or
// name something other than the path the client sees is refused rather than repaired: a
// ".." segment in any spelling ("..", "%2e%2e", ".%2E"), an encoded slash ("%2f" would put a
// separator inside one segment), a backslash raw or encoded (a separator elsewhere), NUL
// ("%00" would cut the name short in a C call), and a malformed escape ("%zz", "%4").
// No allocation beyond what `out` needs to grow.
#pragma once

#include <string>
#include <string_view>

namespace hs::static_files {

enum class PathVerdict {
  ok,          // `out` holds the relative name
  bad_escape,  // '%' not followed by two hex digits
  forbidden,   // "..", an encoded '/', a backslash or NUL
};

// Decodes `path` (the request's path: starts with '/', no query) into `out`, the name
// relative to the root without the leading slash; "" for the root itself. Empty and "."
// segments are kept: resolving them stays where it is. `out` is overwritten.
PathVerdict decode_path(std::string_view path, std::string& out);

// Appends `name` percent-encoded for a URL path segment (everything but RFC 3986's
// unreserved characters and a few safe sub-delims is escaped).
void append_encoded_segment(std::string& out, std::string_view name);

}  // namespace hs::static_files
