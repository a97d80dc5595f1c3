// Logger: logrus-compatible log lines, batched in memory and written once per loop iteration.
//
// Formats, as Go's logrus writes them to a non-terminal:
//   text  time="2026-11-25T17:45:51Z" level=info msg="uri: /x"
//   json  {"level":"info","msg":"uri: /x","time":"2026-11-25T17:45:51Z"}
// Values are quoted and escaped as logrus does (Go's strconv.Quote for text, encoding/json for
// JSON): quotes, backslashes, control bytes, invalid UTF-8 and line separators are escaped, so
// no request can forge or split a line.
//
// Lines are appended to a buffer; flush_due() runs once per loop iteration, before the loop
// sleeps, and writes them with one write() call. The Logger's owner says which loop that is:
// attach(reactor) runs it there; whoever only logs through it (a Server, the logging
// middleware) never flushes it. With file_chunk_bytes set (the httpserver
// binary sets 64 KiB) and a regular file, it writes only up to the last 64 KiB boundary of
// the file and holds the rest for a few milliseconds: the kernel then fills whole large
// page-cache folios, at about two thirds of the system time of writes that end anywhere
// (ext4, 52-byte lines: 0.09 s per 200 MB against 0.13 s in 53,000-byte writes, and 0.12 s
// when each write ends at the last newline before the boundary: it has to be exact). Such a
// write may end mid-line: the file holds whole lines once the tail follows, but another
// writer to the same file could land inside a line, so it is for a file the Logger has to
// itself. flush() writes everything at once. When the descriptor is a pipe
// or socket it is made non-blocking: a slow reader never blocks the server. Lines that do not
// fit in the bounded buffer are dropped and counted, and a warning saying how many follows as
// soon as there is room again. Lines are never torn or interleaved with another writer's
// (file chunks aside): what a short write left is written first on the next flush.
//
// Threads: one Logger per reactor thread; it is not locked. Several Loggers may share one
// descriptor: set atomic_write_bytes to PIPE_BUF so each write is a whole number of lines
// that the kernel will not interleave with another thread's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include <httpserver/export.hpp>

namespace hs {

class Reactor;

enum class LogFormat { text, json, none };

// One field of a structured line (Logger::info_fields): a string, or a number.
struct LogField {
  std::string_view key;  // written as is: [a-z_] only
  std::string_view text;
  uint64_t number = 0;
  bool is_number = false;
};

// Parses "text", "json" or "none"; returns false for anything else.
HS_API bool parse_log_format(std::string_view name, LogFormat& format) noexcept;

struct LoggerOptions {
  LogFormat format = LogFormat::text;
  size_t max_pending_bytes = 1 << 20;  // beyond this, lines are dropped and counted
  size_t atomic_write_bytes = 0;       // 0: one write for everything pending
  // To a regular file (and atomic_write_bytes 0), flush_due() ends its writes where the file
  // offset is a multiple of this (0: writes everything like flush()), holding the rest back
  // for at most max_hold_ms after the iteration that last wrote or first held.
  size_t file_chunk_bytes = 0;
  uint32_t max_hold_ms = 10;
};

class HS_API Logger {
 public:
  // Does not take ownership of `fd` (usually 2). Restores its flags on destruction.
  Logger(int fd, LoggerOptions options);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled() const noexcept { return options_.format != LogFormat::none; }
  LogFormat format() const noexcept { return options_.format; }

  // A message prefix whose bytes are checked once (for escaping and quoting) rather than on
  // every line: for a caller that logs the same prefix each time, as the logging middleware
  // logs "uri: ". Holds a view: `text` must outlive it and not change.
  class Prefix {
   public:
    explicit Prefix(std::string_view text) noexcept;

   private:
    friend class Logger;
    std::string_view text_;
    uint8_t kinds_;  // what every byte of text_ allows (see log.cpp)
  };

  // Appends one line whose message is `prefix` followed by `value` ("uri: " + target).
  // No allocation once the buffer has grown; no system call.
  void info(std::string_view prefix, std::string_view value = {}) noexcept;
  void info(const Prefix& prefix, std::string_view value) noexcept { line(kInfo, prefix, value); }
  // Appends one line with `message` and `fields` after it, in the order given (logrus's text
  // formatter sorts keys: pass them sorted to read as it writes). Text: `key=value`, a value
  // quoted where logrus quotes, but escaped as JSON escapes (\u0001, \ufffd for a byte that
  // is not UTF-8) so that logfmt parsers read every line; JSON: `"key":value` between "msg"
  // and "time". No
  // allocation once the buffers have grown; no system call.
  void info_fields(std::string_view message, std::span<const LogField> fields) noexcept;
  void warn(std::string_view prefix, std::string_view value = {}) noexcept;
  void error(std::string_view prefix, std::string_view value = {}) noexcept;

  // Writes pending lines. Returns true when nothing is left pending.
  bool flush() noexcept;
  // Once per loop iteration, with the loop's clock (Reactor::now_ms()): writes what is due.
  // To a terminal, pipe or socket that is everything, as flush(). To a regular file it is up
  // to the last file_chunk_bytes boundary of the file offset; the rest waits, and is written
  // whole once it has waited max_hold_ms or when an iteration added no line (the load is
  // over). Returns the time by which it must run again (Reactor::wake_by()), 0 if none.
  uint64_t flush_due(uint64_t now_ms) noexcept;
  // Flushes, blocking if it must, for a clean exit.
  void flush_all() noexcept;

  // Runs flush_due() before each sleep of `reactor` (asking it to wake by the time returned)
  // until detach() or destruction; the reactor must outlive the attachment. Attaching again
  // moves it. Logging itself never flushes: a Logger attached nowhere writes only on flush().
  void attach(Reactor& reactor);
  void detach() noexcept;

  bool pending() const noexcept { return sent_ < used_; }
  int fd() const noexcept { return fd_; }
  uint64_t dropped() const noexcept { return dropped_total_; }
  uint64_t lines() const noexcept { return lines_; }

  // The escaped, quoted forms, exposed for the library's own tests (not exported).
  HS_LOCAL static void append_text_quoted(std::string& out, std::string_view value);
  HS_LOCAL static void append_json_string(std::string& out, std::string_view value);

 private:
  enum Level { kInfo, kWarning, kError, kLevels };
  // The bytes of a line around its message that change at most once a second: for text,
  // `time="<stamp>" level=info msg=` and "\n"; for JSON, `{"level":"info","msg":"` and
  // `","time":"<stamp>"}\n`. Formatted once a second per level, copied for every line.
  struct Frame {
    std::time_t second = -1;
    uint8_t start_length = 0, end_length = 0;
    char start[64] = {};
    char end[64] = {};
  };

  void line(Level level, std::string_view prefix, std::string_view value) noexcept;
  void line(Level level, const Prefix& prefix, std::string_view value) noexcept;
  HS_LOCAL void escaped_line(const Frame& f, std::string_view prefix,
                             std::string_view value) noexcept;
  void append(const Frame& f, std::string_view first, std::string_view second, bool quote) noexcept;
  HS_LOCAL bool grow(size_t size) noexcept;
  HS_LOCAL void format_frame(Level level, std::time_t t) noexcept;
  HS_LOCAL std::string_view timestamp(std::time_t t) noexcept;

  int fd_;
  LoggerOptions options_;
  Reactor* reactor_ = nullptr;  // attached to; its hook is hook_
  uint64_t hook_ = 0;
  int saved_flags_ = -1;   // restored by the destructor when we set O_NONBLOCK
  uint8_t write_how_ = 0;  // how a write avoids SIGPIPE (log.cpp): plain, send, guarded
  // Lines are [0, used_) of buffer_, of which [sent_, used_) are not written yet. The string
  // is kept at its full size so that a line is copied into it without zero-filling first.
  std::string buffer_;
  size_t used_ = 0;
  size_t sent_ = 0;
  std::string escaped_;         // a message with bytes to escape, escaped; capacity reused
  uint64_t dropped_ = 0;        // since the last warning
  uint64_t dropped_total_ = 0;  // ever
  uint64_t lines_ = 0;
  // Regular files: writes end on multiples of chunk_ (0: not a regular file, or not asked)
  // of the file offset, which is offset_ as far as this Logger knows (another writer to the
  // same file only makes the chunks unaligned). held_since_ms_: when the pending tail was
  // last left behind; lines_at_due_: lines_ at the last flush_due().
  size_t chunk_ = 0;
  uint64_t offset_ = 0;
  uint64_t held_since_ms_ = 0;
  uint64_t lines_at_due_ = 0;
  std::time_t stamp_second_ = -1;
  char stamp_[40] = {};
  size_t stamp_length_ = 0;
  Frame frames_[kLevels];
};

}  // namespace hs
