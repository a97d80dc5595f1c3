#include "strict_reader.hpp"

#include <cctype>
#include <cstdint>

#include <httpserver/http.hpp>

#include "fuzz_report.hpp"

namespace fuzz {

namespace {

using hs::iequals;

class StrictReader {
 public:
  explicit StrictReader(std::string_view in) : in_(in) {}

  enum class Read { none, complete, head_only };

  std::vector<StrictRequest> read_all() {
    std::vector<StrictRequest> out;
    StrictRequest r;
    for (;;) {
      Read got = read_one(r);
      if (got == Read::none) break;
      r.complete = got == Read::complete;
      r.end = at_;
      out.push_back(std::move(r));
      if (got == Read::head_only) break;
    }
    return out;
  }

 private:
  static bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

  // The next line without its CRLF; false at the end of input or on a bare CR or LF.
  bool line(std::string_view& out) {
    size_t lf = in_.find('\n', at_);
    if (lf == std::string_view::npos || lf == at_ || in_[lf - 1] != '\r') return false;
    out = in_.substr(at_, lf - 1 - at_);
    if (out.find('\r') != std::string_view::npos) return false;
    at_ = lf + 1;
    return true;
  }

  static bool token(std::string_view t) {
    if (t.empty()) return false;
    for (char c : t)
      if (!is_tchar(c)) return false;
    return true;
  }

  // name ":" OWS value OWS, value without CTL but HTAB.
  static bool field(std::string_view l, std::string_view& name, std::string_view& value) {
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) return false;
    name = l.substr(0, colon);
    for (char c : name)
      if (!is_tchar(c)) return false;
    if (name.empty()) return false;
    value = l.substr(colon + 1);
    for (char c : value)
      if (is_ctl(static_cast<unsigned char>(c)) && c != '\t') return false;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return true;
  }

  // Field lines up to the empty line; calls `each` for every field.
  template <typename F>
  bool fields(F each) {
    std::string_view l, name, value;
    for (;;) {
      if (!line(l)) return false;
      if (l.empty()) return true;
      if (l.front() == ' ' || l.front() == '\t') return false;  // obs-fold
      if (!field(l, name, value)) return false;
      each(name, value);
    }
  }

  // Digits as a number; false when they overflow (llhttp refuses such a Content-Length).
  static bool number(std::string_view digits, uint64_t& n) {
    n = 0;
    for (char c : digits) {
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (n > (UINT64_MAX - d) / 10) return false;
      n = n * 10 + d;
    }
    return true;
  }

  Read read_one(StrictRequest& r) {
    // RFC 9112 section 2.2: empty lines before a request-line are ignored. llhttp skips any
    // run of CR and LF bytes there, bare ones included; lenient, but nothing is framed by
    // them, so the reader does the same.
    while (at_ < in_.size() && (in_[at_] == '\r' || in_[at_] == '\n')) ++at_;
    std::string_view l;
    if (!line(l)) return Read::none;
    size_t sp1 = l.find(' ');
    if (sp1 == std::string_view::npos) return Read::none;
    size_t sp2 = l.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return Read::none;
    std::string_view method = l.substr(0, sp1), target = l.substr(sp1 + 1, sp2 - sp1 - 1),
                     version = l.substr(sp2 + 1);
    if (!token(method) || target.empty()) return Read::none;
    for (char c : target)
      if (is_ctl(static_cast<unsigned char>(c))) return Read::none;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' ||
        version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
      return Read::none;

    int lengths = 0, encodings = 0;
    std::string length, encoding;
    bool ok = fields([&](std::string_view name, std::string_view value) {
      if (iequals(name, "Content-Length")) ++lengths, length.assign(value);
      if (iequals(name, "Transfer-Encoding")) {
        ++encodings;
        if (!encoding.empty()) encoding += ",";
        encoding.append(value);
      }
    });
    if (!ok) return Read::none;
    r.method.assign(method);
    r.target.assign(target);
    r.body.clear();
    r.chunked = false;
    r.head_end = at_;
    if (method == "CONNECT") return Read::complete;
    if (encodings > 0) {
      // RFC 9112 section 6.1: in HTTP/1.0, framing by Transfer-Encoding is faulty.
      if (version == "HTTP/1.0") return Read::none;
      if (lengths > 0 || !iequals(encoding, "chunked")) return Read::none;
      r.chunked = true;
      return chunked(r.body) ? Read::complete : Read::head_only;
    }
    if (lengths > 1) return Read::none;
    if (lengths == 1) {
      uint64_t n = 0;  // leading zeros are fine
      if (!all_digits(length) || !number(length, n)) return Read::none;
      size_t left = in_.size() - at_;
      if (left < n) {
        r.body.assign(in_.substr(at_));
        at_ = in_.size();
        return Read::head_only;
      }
      r.body.assign(in_.substr(at_, n));
      at_ += n;
    }
    return Read::complete;
  }

  bool chunked(std::string& body) {
    std::string_view l;
    for (;;) {
      if (!line(l)) return false;
      size_t hex = 0;
      uint64_t size = 0;
      while (hex < l.size() && std::isxdigit(static_cast<unsigned char>(l[hex]))) {
        char c = l[hex];
        if (size >> 60) return false;  // overflows 64 bits
        size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        ++hex;
      }
      if (hex == 0) return false;
      std::string_view ext = l.substr(hex);
      while (!ext.empty() && (ext.front() == ' ' || ext.front() == '\t')) ext.remove_prefix(1);
      if (!ext.empty() && ext.front() != ';') return false;
      for (char c : ext)
        if (is_ctl(static_cast<unsigned char>(c)) && c != '\t') return false;
      if (size == 0) return fields([](std::string_view, std::string_view) {});
      size_t left = in_.size() - at_;
      body.append(in_.substr(at_, size < left ? size : left));
      if (left < size || left - size < 2 || in_.substr(at_ + size, 2) != "\r\n") return false;
      at_ += size + 2;
    }
  }

  std::string_view in_;
  size_t at_ = 0;
};

}  // namespace

std::vector<StrictRequest> read_strict(std::string_view input) {
  return StrictReader(input).read_all();
}

}  // namespace fuzz
