#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <utility>

#include <httpserver/log.hpp>
#include <httpserver/reactor.hpp>

#include "bytes.hpp"

namespace hs {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Decodes one UTF-8 sequence at s[i]. Returns its length and stores the code point, or
// returns 0 for an invalid sequence (overlong, surrogate, out of range, truncated).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& code) noexcept {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  size_t length;
  uint32_t min;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2, code = b0 & 0x1f, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3, code = b0 & 0x0f, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4, code = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xc0) != 0x80) return 0;
    code = (code << 6) | (b & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

// Go's unicode.IsPrint for the code points a log reader could be fooled by: separators,
// format characters, C1 controls and private use. Unassigned code points pass as printable.
bool printable(uint32_t c) noexcept {
  if (c < 0xa0) return false;  // only called for c >= 0x80: the C1 controls
  if (c == 0xa0 || c == 0xad || c == 0x61c || c == 0x1680 || c == 0x180e) return false;
  if (c >= 0x2000 && c <= 0x200f) return false;
  if (c >= 0x2028 && c <= 0x202f) return false;
  if (c >= 0x205f && c <= 0x206f) return false;
  if (c == 0x3000 || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb)) return false;
  if (c >= 0xe000 && c <= 0xf8ff) return false;
  if (c >= 0xf0000) return false;
  return true;
}

void append_hex(std::string& out, const char* prefix, uint32_t value, int digits) {
  out.append(prefix);
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHex[(value >> shift) & 0xf]);
}

}  // namespace

bool parse_log_format(std::string_view name, LogFormat& format) noexcept {
  if (name == "text") return format = LogFormat::text, true;
  if (name == "json") return format = LogFormat::json, true;
  if (name == "none") return format = LogFormat::none, true;
  return false;
}

namespace {

// How the log's writes avoid SIGPIPE, whose default kills the process: a host that embeds us
// may keep that default, and a log reader that went away must be an error code (its lines are
// counted as dropped), never the host's death.
enum : uint8_t {
  kPlainWrite,    // a file or a terminal (no SIGPIPE), or SIGPIPE is ignored
  kSocketWrite,   // send() with MSG_NOSIGNAL
  kGuardedWrite,  // a pipe in a process that has not ignored SIGPIPE: block it around write()
};

uint8_t write_how_for(const struct stat& st) noexcept {
  if (S_ISSOCK(st.st_mode)) return kSocketWrite;
  if (!S_ISFIFO(st.st_mode)) return kPlainWrite;
  struct sigaction action;
  if (::sigaction(SIGPIPE, nullptr, &action) == 0 && action.sa_handler == SIG_IGN)
    return kPlainWrite;  // the binary's case: no system calls added
  return kGuardedWrite;
}

ssize_t write_without_sigpipe(int fd, const char* data, size_t length, uint8_t how) noexcept {
  if (how == kSocketWrite) return ::send(fd, data, length, MSG_NOSIGNAL);
  if (how == kPlainWrite) return ::write(fd, data, length);
  // Blocked, a SIGPIPE this write raises stays pending: take it before unblocking.
  sigset_t pipe_signal, old;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_signal, &old);
  ssize_t n = ::write(fd, data, length);
  int saved = errno;
  if (n < 0 && saved == EPIPE) {
    timespec none{0, 0};
    while (::sigtimedwait(&pipe_signal, nullptr, &none) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

}  // namespace

Logger::Logger(int fd, LoggerOptions options) : fd_(fd), options_(options) {
  struct stat st;
  bool known = enabled() && ::fstat(fd_, &st) == 0;
  // Only pipes and sockets can block us; a terminal is shared with the shell, which must not
  // find its descriptor non-blocking after we exit, and files never block.
  if (known) write_how_ = write_how_for(st);
  if (known && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK) && ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) == 0)
      saved_flags_ = flags;
  }
  if (known && S_ISREG(st.st_mode) && options_.atomic_write_bytes == 0 &&
      options_.file_chunk_bytes != 0) {
    // O_APPEND writes land at the end, whatever the descriptor's offset says.
    int flags = ::fcntl(fd_, F_GETFL);
    off_t at = flags >= 0 && (flags & O_APPEND) ? st.st_size : ::lseek(fd_, 0, SEEK_CUR);
    if (flags >= 0 && at >= 0) {
      chunk_ = options_.file_chunk_bytes;
      offset_ = static_cast<uint64_t>(at);
    }
  }
  if (enabled()) buffer_.resize(4096);
}

Logger::~Logger() {
  detach();
  flush_all();
  if (saved_flags_ >= 0) ::fcntl(fd_, F_SETFL, saved_flags_);
}

void Logger::attach(Reactor& reactor) {
  detach();
  hook_ = reactor.add_before_sleep([this, &reactor] {
    if (uint64_t due = flush_due(reactor.now_ms())) reactor.wake_by(due);
  });
  reactor_ = &reactor;
}

void Logger::detach() noexcept {
  if (reactor_ != nullptr) reactor_->remove_before_sleep(hook_);
  reactor_ = nullptr;
}

void Logger::info(std::string_view prefix, std::string_view value) noexcept {
  line(kInfo, prefix, value);
}
void Logger::warn(std::string_view prefix, std::string_view value) noexcept {
  line(kWarning, prefix, value);
}
void Logger::error(std::string_view prefix, std::string_view value) noexcept {
  line(kError, prefix, value);
}

std::string_view Logger::timestamp(std::time_t t) noexcept {
  if (t != stamp_second_) {
    stamp_second_ = t;
    std::tm tm;
    ::localtime_r(&t, &tm);
    size_t n = std::strftime(stamp_, sizeof stamp_, "%Y-%m-%dT%H:%M:%S", &tm);
    long offset = tm.tm_gmtoff / 60;
    if (offset == 0) {
      stamp_[n++] = 'Z';
    } else {
      stamp_[n++] = offset < 0 ? '-' : '+';
      long a = offset < 0 ? -offset : offset;
      stamp_[n++] = static_cast<char>('0' + a / 600);
      stamp_[n++] = static_cast<char>('0' + a / 60 % 10);
      stamp_[n++] = ':';
      stamp_[n++] = static_cast<char>('0' + a % 60 / 10);
      stamp_[n++] = static_cast<char>('0' + a % 10);
    }
    stamp_length_ = n;
  }
  return {stamp_, stamp_length_};
}

namespace {

// What a byte allows, as bits; a string allows what all of its bytes allow (the AND of
// theirs), which one pass over a table tells. Most request-targets are copied as they are.
enum : uint8_t {
  kBare = 1,         // logrus leaves a text value unquoted when every byte is one of these
  kGoVerbatim = 2,   // strconv.Quote copies it as is: printable ASCII but '"' and '\\'
  kJsonVerbatim = 4  // encoding/json copies it as is: kGoVerbatim, DEL, but not '<', '>', '&'
};

constexpr auto kByteKinds = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0x20; c <= 0x7f; ++c) {
    uint8_t kinds = 0;
    bool bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
    if (bare) kinds |= kBare;
    if (c != 0x7f && c != '"' && c != '\\') kinds |= kGoVerbatim;
    if (c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') kinds |= kJsonVerbatim;
    table[static_cast<size_t>(c)] = kinds;
  }
  return table;
}();

[[gnu::always_inline]] inline uint8_t byte_kinds(std::string_view s, uint8_t kinds) noexcept {
  auto of = [&s](size_t i) { return kByteKinds[static_cast<unsigned char>(s[i])]; };
  // Eight bytes a round, one test of what is left: a browser's request-target is some 40
  // bytes, for which a test per byte cost as much as the lookups. Stopping once nothing is
  // left also keeps GCC from vectorizing the loops, which costs more than it saves on strings
  // this short.
  size_t i = 0;
  for (; i + 8 <= s.size() && kinds != 0; i += 8)
    kinds &=
        of(i) & of(i + 1) & of(i + 2) & of(i + 3) & of(i + 4) & of(i + 5) & of(i + 6) & of(i + 7);
  for (; i < s.size() && kinds != 0; ++i) kinds &= of(i);
  return kinds;
}

// Printable ASCII other than '"' and '\\' is copied as is by both escapers, in runs.
bool plain_ascii(unsigned char c) noexcept {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

size_t plain_run(std::string_view s, size_t i) noexcept {
  size_t j = i;
  while (j < s.size() && plain_ascii(static_cast<unsigned char>(s[j]))) ++j;
  return j - i;
}

// The inside of a quoted string in one of the two formats logrus writes: Go's strconv.Quote
// (text) or a JSON string as Go's encoding/json writes it (HTML escaping on, as logrus leaves
// it). Both copy printable ASCII in runs and differ only in what they escape, and how.
enum class Quoting { go, json };

template <Quoting kQuoting>
void escape(std::string& out, std::string_view s) {
  constexpr bool go = kQuoting == Quoting::go;
  for (size_t i = 0; i < s.size();) {
    if (size_t run = plain_run(s, i); run != 0) {
      // '<', '>' and '&' are printable but escaped by encoding/json: stop the run there.
      size_t end = i + run;
      if (!go)
        end = std::find_if(s.begin() + i, s.begin() + end,
                           [](char c) { return c == '<' || c == '>' || c == '&'; }) -
              s.begin();
      if (end != i) {
        out.append(s.data() + i, end - i);
        i = end;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      // The short escapes: JSON has \n \r \t of Go's seven.
      const char* short_escape = nullptr;
      switch (c) {
        case '"':
          short_escape = "\\\"";
          break;
        case '\\':
          short_escape = "\\\\";
          break;
        case '\n':
          short_escape = "\\n";
          break;
        case '\r':
          short_escape = "\\r";
          break;
        case '\t':
          short_escape = "\\t";
          break;
        case '\a':
          short_escape = go ? "\\a" : nullptr;
          break;
        case '\b':
          short_escape = go ? "\\b" : nullptr;
          break;
        case '\f':
          short_escape = go ? "\\f" : nullptr;
          break;
        case '\v':
          short_escape = go ? "\\v" : nullptr;
          break;
      }
      if (short_escape != nullptr)
        out.append(short_escape);
      else if (go && (c < 0x20 || c == 0x7f))
        append_hex(out, "\\x", c, 2);
      else if (!go && (c < 0x20 || c == '<' || c == '>' || c == '&'))
        append_hex(out, "\\u", c, 4);
      else
        out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    uint32_t code;
    size_t length = decode_utf8(s, i, code);
    if (length == 0) {  // one invalid byte at a time, as Go does
      if (go)
        append_hex(out, "\\x", c, 2);
      else
        out.append("\\ufffd");
      ++i;
      continue;
    }
    bool verbatim = go ? printable(code) : code != 0x2028 && code != 0x2029;
    if (verbatim)
      out.append(s.substr(i, length));
    else if (code < 0x10000)
      append_hex(out, "\\u", code, 4);
    else
      append_hex(out, "\\U", code, 8);  // Go only: JSON escapes no code point that high
    i += length;
  }
}

void escape_go(std::string& out, std::string_view s) { escape<Quoting::go>(out, s); }
void escape_json(std::string& out, std::string_view s) { escape<Quoting::json>(out, s); }

}  // namespace

void Logger::append_text_quoted(std::string& out, std::string_view value) {
  out.push_back('"');
  escape_go(out, value);
  out.push_back('"');
}

void Logger::append_json_string(std::string& out, std::string_view value) {
  out.push_back('"');
  escape_json(out, value);
  out.push_back('"');
}

void Logger::format_frame(Level level, std::time_t t) noexcept {
  static constexpr std::string_view kNames[kLevels] = {"info", "warning", "error"};
  Frame& f = frames_[level];
  std::string_view stamp = timestamp(t);
  std::string_view name = kNames[level];
  auto build = [](char* out, std::initializer_list<std::string_view> pieces) {
    size_t n = 0;
    for (std::string_view piece : pieces) {
      std::memcpy(out + n, piece.data(), piece.size());
      n += piece.size();
    }
    return static_cast<uint8_t>(n);
  };
  // At most 25 bytes of stamp and 7 of level name: each part fits in its 64 bytes.
  if (options_.format == LogFormat::text) {
    // Fields in logrus's order: time, level, msg.
    f.start_length = build(f.start, {"time=\"", stamp, "\" level=", name, " msg="});
    f.end_length = build(f.end, {"\n"});
  } else {
    f.start_length = build(f.start, {"{\"level\":\"", name, "\",\"msg\":\""});
    f.end_length = build(f.end, {"\",\"time\":\"", stamp, "\"}\n"});
  }
  f.second = t;
}

Logger::Prefix::Prefix(std::string_view text) noexcept
    : text_(text), kinds_(byte_kinds(text, kBare | kGoVerbatim | kJsonVerbatim)) {}

void Logger::line(Level level, std::string_view prefix, std::string_view value) noexcept {
  line(level, Prefix(prefix), value);
}

void Logger::line(Level level, const Prefix& prefix, std::string_view value) noexcept {
  if (!enabled()) return;
  if (sent_ > 0 && sent_ == used_) used_ = sent_ = 0;
  std::time_t now = std::time(nullptr);  // vDSO: no system call
  if (now != frames_[level].second) [[unlikely]]
    format_frame(level, now);
  const Frame& f = frames_[level];
  bool text = options_.format == LogFormat::text;
  uint8_t kinds = byte_kinds(value, prefix.kinds_);
  if (!(kinds & (text ? kGoVerbatim : kJsonVerbatim))) [[unlikely]]
    return escaped_line(f, prefix.text_, value);
  // Nothing to escape. A text value is quoted unless it is bare and not empty, as logrus
  // decides.
  bool quote = text && (!(kinds & kBare) || (prefix.text_.empty() && value.empty()));
  append(f, prefix.text_, value, quote);
}

// A message with bytes to escape: escaped into escaped_ first. Out of line, with the
// allocations it may need, so that the common line stays a few copies.
void Logger::escaped_line(const Frame& f, std::string_view prefix,
                          std::string_view value) noexcept {
  try {
    // The prefix is ASCII, so escaping the two pieces one after the other equals escaping
    // their concatenation. A text value with a byte to escape is never bare: quoted.
    escaped_.clear();
    bool text = options_.format == LogFormat::text;
    if (text) {
      escape_go(escaped_, prefix);
      escape_go(escaped_, value);
    } else {
      escape_json(escaped_, prefix);
      escape_json(escaped_, value);
    }
    append(f, escaped_, {}, text);
  } catch (...) {
    // Out of memory while logging: lose the line, never the request.
    ++dropped_;
    ++dropped_total_;
  }
}

void Logger::info_fields(std::string_view message, std::span<const LogField> fields) noexcept {
  if (!enabled()) return;
  if (sent_ > 0 && sent_ == used_) used_ = sent_ = 0;
  std::time_t now = std::time(nullptr);
  if (now != frames_[kInfo].second) [[unlikely]]
    format_frame(kInfo, now);
  const Frame& f = frames_[kInfo];
  bool text = options_.format == LogFormat::text;
  // Written straight into the buffer, with room for the longest the line can be: every value
  // byte escaped to 6 bytes (\u00XX), quoted.
  size_t most = f.start_length + f.end_length + 6 * message.size() + 3;
  for (const LogField& field : fields)
    most += field.key.size() + 4 + (field.is_number ? 20 : 6 * field.text.size() + 2);
  if (buffer_.size() - used_ < most && !grow(used_ + most)) {
    ++dropped_;
    ++dropped_total_;
    return;
  }
  char* start = buffer_.data() + used_;
  char* p = copy_bytes(start, {f.start, f.start_length});
  // Escaped as JSON escapes in both formats, not as strconv.Quote: logfmt parsers
  // (go-logfmt) read \u0001 and \ufffd but refuse Quote's \x01 and \xff. Printable ASCII
  // reads the same. Quoted in text where logrus quotes.
  enum Quote { never, always, as_logrus };
  auto put = [&](std::string_view v, Quote mode) {
    uint8_t kinds = byte_kinds(v, kBare | kJsonVerbatim);
    bool quote = mode == always || (mode == as_logrus && (!(kinds & kBare) || v.empty()));
    if (quote) *p++ = '"';
    if (kinds & kJsonVerbatim) {
      p = copy_bytes(p, v);
    } else {
      escaped_.clear();
      escape_json(escaped_, v);  // may throw: out of line, rare
      p = copy_bytes(p, escaped_);
    }
    if (quote) *p++ = '"';
  };
  try {
    if (text) {
      put(message, as_logrus);
    } else {  // the frame opened the message's quotes
      put(message, never);
      *p++ = '"';
    }
    for (const LogField& field : fields) {
      if (text) {
        *p++ = ' ';
        p = copy_bytes(p, field.key);
        *p++ = '=';
      } else {
        *p++ = ',';
        *p++ = '"';
        p = copy_bytes(p, field.key);
        *p++ = '"';
        *p++ = ':';
      }
      if (field.is_number)
        p = std::to_chars(p, p + 20, field.number).ptr;
      else
        put(field.text, text ? as_logrus : always);
    }
  } catch (...) {
    ++dropped_;
    ++dropped_total_;
    return;
  }
  // JSON: a comma, then the frame's end without its first two bytes (`",`), which would
  // have closed the message.
  size_t skip = 0;
  if (!text) {
    *p++ = ',';
    skip = 2;
  }
  p = copy_bytes(p, {f.end + skip, f.end_length - skip});
  size_t length = static_cast<size_t>(p - start);
  if (used_ + length - sent_ > options_.max_pending_bytes) {
    ++dropped_;
    ++dropped_total_;
    return;
  }
  used_ += length;
  ++lines_;
}

// Inlined into its callers: on the hot path its call costs a quarter of the line.
[[gnu::always_inline]] inline void Logger::append(const Frame& f, std::string_view first,
                                                  std::string_view second, bool quote) noexcept {
  size_t length = f.start_length + first.size() + second.size() + f.end_length + 2 * quote;
  // Room for the line and for whole frame arrays: copying all of one is a few moves,
  // cheaper than copying its length.
  size_t room = length + sizeof f.start;
  if (used_ + length - sent_ > options_.max_pending_bytes ||
      (buffer_.size() - used_ < room && !grow(used_ + room))) {
    ++dropped_;
    ++dropped_total_;
    return;
  }
  char* p = buffer_.data() + used_;
  std::memcpy(p, f.start, sizeof f.start);
  p += f.start_length;
  if (quote) *p++ = '"';
  p = copy_bytes(copy_bytes(p, first), second);
  if (quote) *p++ = '"';
  std::memcpy(p, f.end, sizeof f.end);
  used_ += length;
  ++lines_;
}

bool Logger::grow(size_t size) noexcept {
  try {
    buffer_.resize(std::max(2 * buffer_.size(), size));
    return true;
  } catch (...) {
    return false;
  }
}

bool Logger::flush() noexcept {
  for (;;) {
    if (sent_ == used_) {
      used_ = sent_ = 0;
      if (dropped_ == 0) return true;
      // Room again: say what was lost, in the same format, then write that too.
      char number[24];
      uint64_t lost = std::exchange(dropped_, 0);
      auto n = std::to_chars(number, number + sizeof number, lost).ptr - number;
      line(kWarning, "log: dropped lines because stderr was not keeping up: ",
           std::string_view(number, static_cast<size_t>(n)));
      continue;
    }
    size_t length = used_ - sent_;
    if (options_.atomic_write_bytes != 0 && length > options_.atomic_write_bytes) {
      // End the chunk on a line boundary so another thread's write cannot land mid-line.
      std::string_view window(buffer_.data() + sent_, options_.atomic_write_bytes);
      size_t newline = window.rfind('\n');
      length = newline == std::string_view::npos ? options_.atomic_write_bytes : newline + 1;
    }
    ssize_t n = write_without_sigpipe(fd_, buffer_.data() + sent_, length, write_how_);
    if (n > 0) {
      sent_ += static_cast<size_t>(n);
      offset_ += static_cast<uint64_t>(n);
      if (options_.atomic_write_bytes != 0) continue;
      if (sent_ == used_) continue;  // all out: maybe the dropped-lines warning
      // Short write: the pipe is full; the rest goes first next time. Drop what was sent
      // once it is most of the buffer, so a reader that never quite catches up cannot make
      // the buffer grow past twice the pending limit.
      if (sent_ > used_ / 2) {
        std::memmove(buffer_.data(), buffer_.data() + sent_, used_ - sent_);
        used_ -= sent_;
        sent_ = 0;
      }
      return false;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return false;
    // The descriptor is gone (EPIPE, EBADF, ...): nobody can read these lines; count them.
    for (size_t i = sent_; i < used_; ++i)
      if (buffer_[i] == '\n') ++dropped_total_;
    used_ = sent_ = 0;
    return true;
  }
}

uint64_t Logger::flush_due(uint64_t now_ms) noexcept {
  bool added = lines_ != lines_at_due_;
  lines_at_due_ = lines_;
  bool expired = held_since_ms_ != 0 && now_ms - held_since_ms_ >= options_.max_hold_ms;
  if (chunk_ == 0 || !added || expired || dropped_ != 0) {
    held_since_ms_ = 0;
    bool held = used_ != sent_;
    flush();
    // Where the file really ends, now and then: logrotate's copytruncate empties an O_APPEND
    // file under us, and counting on from the old offset would leave every write unaligned.
    if (chunk_ != 0 && held)
      if (off_t at = ::lseek(fd_, 0, SEEK_CUR); at >= 0) offset_ = static_cast<uint64_t>(at);
    return 0;
  }
  size_t pending = used_ - sent_;
  if (pending == 0) {
    held_since_ms_ = 0;
    return 0;
  }
  uint64_t end = (offset_ + pending) / chunk_ * chunk_;
  if (end > offset_) {
    size_t length = static_cast<size_t>(end - offset_);
    ssize_t n;
    do n = write_without_sigpipe(fd_, buffer_.data() + sent_, length, write_how_);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      flush();  // counts what cannot be written, as for any other failed write
      held_since_ms_ = 0;
      return 0;
    }
    sent_ += static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
    // The tail, less than a chunk and this iteration's lines, moves to the front.
    std::memmove(buffer_.data(), buffer_.data() + sent_, used_ - sent_);
    used_ -= sent_;
    sent_ = 0;
    held_since_ms_ = now_ms;
  } else if (held_since_ms_ == 0) {
    held_since_ms_ = now_ms;
  }
  if (used_ == 0) {
    held_since_ms_ = 0;
    return 0;
  }
  return held_since_ms_ + options_.max_hold_ms;
}

void Logger::flush_all() noexcept {
  for (int attempts = 0; attempts < 20 && !flush(); ++attempts) {
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, 100);
  }
}

}  // namespace hs
