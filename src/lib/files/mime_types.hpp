// MIME types: the Content-Type of a file, from its extension, by a table built in (a scratch
// image has no /etc/mime.types). Text types say charset=utf-8. Anything not in the table is
// application/octet-stream: a browser downloads it rather than guessing what it is.
#pragma once

#include <string_view>

namespace hs::static_files {

// The type for the file name `name` (a path; only what follows its last '.' after its last
// '/' counts, in any case). The view points to static storage.
std::string_view content_type(std::string_view name) noexcept;

}  // namespace hs::static_files
