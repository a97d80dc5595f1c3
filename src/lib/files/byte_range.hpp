// Byte ranges: the Range field of a request (RFC 9110 section 14.1.2) against a
// representation of known length.
//
// One range, after coalescing, is what this server sends as 206: ranges that overlap or touch
// are merged (as section 14.2 allows), and a request that still asks for several pieces gets
// the whole representation, 200, rather than multipart/byteranges. Ranges past the end are
// dropped; when none is left the answer is 416. At most `max_ranges` ranges are read: a field
// with more is ignored (200), so the work per request is bounded whatever the client sends.
// A field that does not parse, or names another unit, is ignored too (section 14.2: a server
// may ignore Range). No allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace hs::static_files {

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;  // never 0 for a range that is sent
};

enum class RangeVerdict {
  whole,          // send the whole representation (no field, ignored, or several pieces)
  partial,        // 206 with the one range in `out`
  unsatisfiable,  // 416, Content-Range: bytes */size
};

RangeVerdict parse_range(std::string_view field, uint64_t size, unsigned max_ranges,
                         ByteRange& out) noexcept;

}  // namespace hs::static_files
