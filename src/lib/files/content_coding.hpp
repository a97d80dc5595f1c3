// Content coding: which precompressed sibling of a file (name.br, name.gz) a client takes, by
// its Accept-Encoding field (RFC 9110 section 12.5.3). No allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace hs::static_files {

enum class Coding { identity, br, gzip };

// The quality (0 to 1000, in thousandths) that `field` gives the coding `name`: its own
// entry's q (1 when it has none), else that of "*", else 0; "x-gzip" counts as "gzip". A
// client that sends no Accept-Encoding at all gets identity from the caller, not from here.
unsigned coding_quality(std::string_view field, std::string_view name) noexcept;

// The precompressed codings the client takes, best first: those with a quality above 0, br
// before gzip when equal. Returns how many of `out` it filled (0 to 2); the caller sends the
// first whose sibling file exists, else the file itself (identity is always acceptable here:
// a server may send it even against "identity;q=0", section 12.5.3).
size_t preferred_codings(std::string_view accept_encoding, Coding (&out)[2]) noexcept;

}  // namespace hs::static_files
