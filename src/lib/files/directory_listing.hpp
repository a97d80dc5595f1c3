// Directory listing: the HTML page a directory without an index answers with, when listings
// are on. Names are sorted by byte value, HTML-escaped in the text and percent-encoded in the
// links, so that a file named "<script>" or "a&b" or "50%" is shown and linked as itself.
// Subdirectories end in '/'; symbolic links are listed as what they are named, unfollowed.
#pragma once

#include <string>
#include <string_view>

namespace hs::static_files {

// Writes the page for the directory open at `dir_fd` (the descriptor stays the caller's),
// titled with `url_path` (the request's path as the client sent it), into `out`. False, with
// errno set, when the directory cannot be read.
bool list_directory(int dir_fd, std::string_view url_path, std::string& out);

// Appends `text` with &, <, >, " and ' replaced by character references.
void append_html_escaped(std::string& out, std::string_view text);

}  // namespace hs::static_files
