#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <vector>

#include <httpserver/log.hpp>

namespace hs {
namespace {

const std::string kRfc3339 = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2}))";

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    EXPECT_EQ(::pipe2(fd, O_CLOEXEC), 0);
    ::fcntl(fd[0], F_SETFL, ::fcntl(fd[0], F_GETFL) | O_NONBLOCK);
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  std::string read_all() const {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

// A message-preserving socket pair: each write() of the logger is read back as one record.
struct Records {
  int fd[2] = {-1, -1};
  Records() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fd), 0);
    int size = 1 << 20;
    ::setsockopt(fd[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(fd[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  ~Records() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  // Every write() made so far, one string each.
  std::vector<std::string> read_all() const {
    std::vector<std::string> out;
    std::string buf(1 << 20, '\0');
    ssize_t n;
    while ((n = ::recv(fd[0], buf.data(), buf.size(), MSG_DONTWAIT)) > 0)
      out.emplace_back(buf.data(), static_cast<size_t>(n));
    return out;
  }
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (start != text.size()) lines.push_back(text.substr(start));  // a torn tail
  return lines;
}

std::string text_quoted(std::string_view value) {
  std::string out;
  Logger::append_text_quoted(out, value);
  return out;
}

std::string json_string(std::string_view value) {
  std::string out;
  Logger::append_json_string(out, value);
  return out;
}

// --- Formats ------------------------------------------------------------------------------

TEST(Log, WritesLogrusTextLines) {
  Pipe pipe;
  {
    Logger log(pipe.fd[1], LoggerOptions{});
    EXPECT_TRUE(log.enabled());
    log.info("uri: ", "/x");
    log.warn("careful");
    log.error("broken: ", "disk");
    EXPECT_TRUE(log.flush());
    EXPECT_EQ(log.lines(), 3u);
  }
  auto lines = split_lines(pipe.read_all());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(std::regex_match(lines[0],
                               std::regex("time=\"" + kRfc3339 + R"(" level=info msg="uri: /x")")))
      << lines[0];
  // logrus leaves a value unquoted when it is only letters, digits and -._/@^+.
  EXPECT_TRUE(std::regex_match(lines[1],
                               std::regex("time=\"" + kRfc3339 + R"(" level=warning msg=careful)")))
      << lines[1];
  EXPECT_TRUE(std::regex_match(
      lines[2], std::regex("time=\"" + kRfc3339 + R"(" level=error msg="broken: disk")")))
      << lines[2];
}

TEST(Log, WritesLogrusJsonLinesWithSortedKeys) {
  Pipe pipe;
  {
    Logger log(pipe.fd[1], LoggerOptions{LogFormat::json, 1 << 20, 0});
    log.info("uri: ", "/x");
    log.warn("w");
    log.flush();
  }
  auto lines = split_lines(pipe.read_all());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_match(
      lines[0], std::regex(R"(\{"level":"info","msg":"uri: /x","time":")" + kRfc3339 + "\"\\}")))
      << lines[0];
  EXPECT_TRUE(std::regex_match(
      lines[1], std::regex(R"(\{"level":"warning","msg":"w","time":")" + kRfc3339 + "\"\\}")))
      << lines[1];
}

TEST(Log, TimestampIsTheCurrentLocalTime) {
  Pipe pipe;
  std::time_t before = std::time(nullptr);
  Logger log(pipe.fd[1], LoggerOptions{});
  log.info("x");
  log.flush();
  std::time_t after = std::time(nullptr);
  std::string line = pipe.read_all();
  auto stamp = [](std::time_t t) {
    std::tm tm;
    ::localtime_r(&t, &tm);
    char buf[32];
    return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm));
  };
  bool match =
      line.find("time=\"" + stamp(before)) == 0 || line.find("time=\"" + stamp(after)) == 0;
  EXPECT_TRUE(match) << line;
}

TEST(Log, FormatNoneWritesNothing) {
  Pipe pipe;
  {
    Logger log(pipe.fd[1], LoggerOptions{LogFormat::none, 1 << 20, 0});
    EXPECT_FALSE(log.enabled());
    log.info("uri: ", "/x");
    log.error("e");
    EXPECT_TRUE(log.flush());
    EXPECT_FALSE(log.pending());
  }
  EXPECT_EQ(pipe.read_all(), "");
}

TEST(Log, ParsesTheThreeFormatNamesOnly) {
  LogFormat f = LogFormat::none;
  EXPECT_TRUE(parse_log_format("text", f));
  EXPECT_EQ(f, LogFormat::text);
  EXPECT_TRUE(parse_log_format("json", f));
  EXPECT_EQ(f, LogFormat::json);
  EXPECT_TRUE(parse_log_format("none", f));
  EXPECT_EQ(f, LogFormat::none);
  EXPECT_FALSE(parse_log_format("JSON", f));
  EXPECT_FALSE(parse_log_format("", f));
  EXPECT_EQ(f, LogFormat::none);  // unchanged on failure
}

// --- Escaping as Go does ------------------------------------------------------------------

TEST(Log, TextEscapesQuotesBackslashesAndControlsAsGoStrconvQuote) {
  EXPECT_EQ(text_quoted("plain"), "\"plain\"");
  EXPECT_EQ(text_quoted("a\"b"), R"("a\"b")");
  EXPECT_EQ(text_quoted("a\\b"), R"("a\\b")");
  EXPECT_EQ(text_quoted("a\nb\rc\td"), R"("a\nb\rc\td")");
  EXPECT_EQ(text_quoted("\a\b\f\v"), R"("\a\b\f\v")");
  EXPECT_EQ(text_quoted(std::string_view("\x01\x1f\x00", 3)), R"("\x01\x1f\x00")");
  EXPECT_EQ(text_quoted("\x7f"), R"("\x7f")");
}

TEST(Log, TextEscapesEachInvalidUtf8ByteAndKeepsValidUtf8) {
  EXPECT_EQ(text_quoted("\xff"), R"("\xff")");
  EXPECT_EQ(text_quoted("a\xc3"), R"("a\xc3")");                // truncated sequence
  EXPECT_EQ(text_quoted("\xc0\x80"), R"("\xc0\x80")");          // overlong NUL
  EXPECT_EQ(text_quoted("\xed\xa0\x80"), R"("\xed\xa0\x80")");  // a UTF-16 surrogate
  EXPECT_EQ(text_quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");     // é kept
  EXPECT_EQ(text_quoted("\xe2\x82\xac \xf0\x9f\x98\x80"), "\"\xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(Log, TextEscapesUnicodeLineSeparatorsAndInvisibleCharacters) {
  EXPECT_EQ(text_quoted("a\xe2\x80\xa8z"), R"("a\u2028z")");  // U+2028 LINE SEPARATOR
  EXPECT_EQ(text_quoted("\xe2\x80\xa9"), R"("\u2029")");      // U+2029 PARAGRAPH SEPARATOR
  EXPECT_EQ(text_quoted("\xc2\x85"), R"("\u0085")");          // U+0085 NEXT LINE (C1)
  EXPECT_EQ(text_quoted("\xe2\x80\x8b"), R"("\u200b")");      // U+200B ZERO WIDTH SPACE
  EXPECT_EQ(text_quoted("\xe2\x80\xae"), R"("\u202e")");      // U+202E RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(text_quoted("\xef\xbb\xbf"), R"("\ufeff")");      // U+FEFF BOM
}

TEST(Log, JsonEscapesAsGoEncodingJson) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("a\nb\rc\td"), R"("a\nb\rc\td")");
  EXPECT_EQ(json_string("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");  // DEL is valid in a JSON string: Go keeps it
  EXPECT_EQ(json_string("<a>&"), R"("\u003ca\u003e\u0026")");
}

TEST(Log, JsonReplacesInvalidUtf8AndEscapesLineSeparators) {
  EXPECT_EQ(json_string("a\xff"
                        "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(json_string("\xc0\x80"), R"("\ufffd\ufffd")");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string("\xe2\x80\xa8\xe2\x80\xa9"), R"("\u2028\u2029")");
}

TEST(Log, ARequestTargetCannotForgeOrSplitALine) {
  Pipe pipe;
  const std::string forged = "/a\ntime=\"2000-01-01T00:00:00Z\" level=error msg=\"forged\"\r";
  {
    Logger text(pipe.fd[1], LoggerOptions{});
    text.info("uri: ", forged);
    text.flush();
  }
  std::string out = pipe.read_all();
  auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_NE(
      lines[0].find(
          R"(level=info msg="uri: /a\ntime=\"2000-01-01T00:00:00Z\" level=error msg=\"forged\"\r")"),
      std::string::npos)
      << lines[0];
  {
    Logger json(pipe.fd[1], LoggerOptions{LogFormat::json, 1 << 20, 0});
    json.info("uri: ", forged + "\"}\n{\"level\":\"error\"");
    json.flush();
  }
  out = pipe.read_all();
  lines = split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0].rfind(R"({"level":"info","msg":"uri: /a\ntime=\"2000)", 0), 0u) << lines[0];
}

// --- Writing ------------------------------------------------------------------------------

TEST(Log, OneFlushIsOneWriteHoldingEveryPendingLineInOrder) {
  Records sink;
  Logger log(sink.fd[1], LoggerOptions{});
  for (int i = 0; i < 50; ++i) log.info("uri: /", std::to_string(i));
  EXPECT_TRUE(log.pending());
  EXPECT_TRUE(sink.read_all().empty());  // nothing is written before flush()
  EXPECT_TRUE(log.flush());
  EXPECT_FALSE(log.pending());
  auto writes = sink.read_all();
  ASSERT_EQ(writes.size(), 1u);
  auto lines = split_lines(writes[0]);
  ASSERT_EQ(lines.size(), 50u);
  EXPECT_TRUE(writes[0].ends_with("\n"));
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(lines[static_cast<size_t>(i)].ends_with("msg=\"uri: /" + std::to_string(i) + "\""))
        << lines[static_cast<size_t>(i)];
  EXPECT_TRUE(log.flush());
  EXPECT_TRUE(sink.read_all().empty());  // nothing pending: no empty write either
}

// Prefixes and values of every length from 0 to 40 (the line is copied in pieces, short ones
// without memcpy): each message comes out whole, nothing of its neighbours in it.
TEST(Log, CopiesPrefixAndValueOfEveryLengthWhole) {
  Records sink;
  Logger log(sink.fd[1], LoggerOptions{});
  std::vector<std::string> messages;
  for (size_t a = 0; a <= 40; a += 3) {
    for (size_t b = 0; b <= 40; ++b) {
      std::string prefix = "p" + std::string(a, static_cast<char>('a' + b % 26)) + " ";
      std::string value = std::string(b, static_cast<char>('A' + a % 26));
      log.info(prefix, value);
      messages.push_back(prefix + value);
    }
  }
  ASSERT_TRUE(log.flush());
  auto writes = sink.read_all();
  ASSERT_EQ(writes.size(), 1u);
  auto lines = split_lines(writes[0]);
  ASSERT_EQ(lines.size(), messages.size());
  for (size_t i = 0; i < lines.size(); ++i)
    EXPECT_TRUE(lines[i].ends_with(" level=info msg=\"" + messages[i] + "\"")) << lines[i];
}

// A Prefix only saves checking its bytes on every line: the lines are the same, whatever the
// prefix and value need (quoting, escaping, bare), in both formats.
TEST(Log, APrefixCheckedOnceWritesTheSameLines) {
  const std::vector<std::string> prefixes = {"", "uri: ", "bare", "q\"uote ", "<tag>"};
  const std::vector<std::string> values = {
      "", "/x", "plain", "a b", "new\nline", "caf\xc3\xa9", "\xff", "<&>", "back\\slash"};
  for (LogFormat format : {LogFormat::text, LogFormat::json}) {
    Records plain_sink, prefixed_sink;
    Logger plain(plain_sink.fd[1], LoggerOptions{format});
    Logger prefixed(prefixed_sink.fd[1], LoggerOptions{format});
    for (const std::string& p : prefixes) {
      Logger::Prefix prefix(p);
      for (const std::string& v : values) {
        plain.info(p, v);
        prefixed.info(prefix, v);
      }
    }
    ASSERT_TRUE(plain.flush());
    ASSERT_TRUE(prefixed.flush());
    auto a = plain_sink.read_all(), b = prefixed_sink.read_all();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(split_lines(a[0]).size(), prefixes.size() * values.size());
    EXPECT_EQ(a, b);
    // The prefix's own bytes are escaped too.
    std::string quoted =
        format == LogFormat::text ? R"(msg="q\"uote plain")" : R"("msg":"q\"uote plain")";
    EXPECT_NE(b[0].find(quoted), std::string::npos) << b[0];
    std::string tag =
        format == LogFormat::text ? R"(msg="<tag>/x")" : R"("msg":"\u003ctag\u003e/x")";
    EXPECT_NE(b[0].find(tag), std::string::npos) << b[0];
  }
}

TEST(Log, SetsAPipeNonBlockingAndRestoresItsFlagsWhenDestroyed) {
  Pipe pipe;
  ASSERT_EQ(::fcntl(pipe.fd[1], F_GETFL) & O_NONBLOCK, 0);
  {
    Logger log(pipe.fd[1], LoggerOptions{});
    EXPECT_NE(::fcntl(pipe.fd[1], F_GETFL) & O_NONBLOCK, 0);
  }
  EXPECT_EQ(::fcntl(pipe.fd[1], F_GETFL) & O_NONBLOCK, 0);
}

// Logs into a small pipe nobody reads until it is full and lines are dropped; returns the
// number of lines logged. Every call must return at once: a full pipe never blocks us.
int fill_until_dropping(Logger& log, int& next) {
  auto start = std::chrono::steady_clock::now();
  while (log.dropped() < 25) {
    log.info("uri: /", std::to_string(next++));
    if (next % 8 == 0) log.flush();
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(5)) break;
  }
  return next;
}

TEST(Log, DropsLinesInsteadOfBlockingOnAFullPipeAndSaysHowManyOnceDrained) {
  Pipe pipe;
  ASSERT_GE(::fcntl(pipe.fd[1], F_SETPIPE_SZ, 4096), 4096);
  LoggerOptions options;
  options.max_pending_bytes = 12'000;  // more than PIPE_BUF: the writes that drain it are short
  Logger log(pipe.fd[1], options);
  int next = 0;
  auto start = std::chrono::steady_clock::now();
  fill_until_dropping(log, next);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_GE(log.dropped(), 25u);
  EXPECT_FALSE(log.flush());  // still full: nothing more goes out
  const uint64_t dropped = log.dropped();

  // The reader catches up; the pending lines and then the warning follow.
  std::string out;
  for (int i = 0; i < 100 && (log.pending() || i == 0); ++i) {
    out += pipe.read_all();
    log.flush();
  }
  out += pipe.read_all();
  EXPECT_FALSE(log.pending());

  ASSERT_TRUE(out.ends_with("\n")) << out;
  auto lines = split_lines(out);
  std::regex info("time=\"" + kRfc3339 + R"re(" level=info msg="uri: /(\d+)")re");
  std::regex warning(
      "time=\"" + kRfc3339 +
      R"re(" level=warning msg="log: dropped lines because stderr was not keeping up: (\d+)")re");
  std::vector<int> logged;
  size_t warnings = 0;
  uint64_t reported = 0;
  for (const auto& line : lines) {
    std::smatch m;
    if (std::regex_match(line, m, info)) {
      EXPECT_EQ(warnings, 0u) << "a kept line after the warning: " << line;
      logged.push_back(std::stoi(m[1]));
    } else if (std::regex_match(line, m, warning)) {
      ++warnings;
      reported = std::stoull(m[1]);
    } else {
      ADD_FAILURE() << "torn or unknown line: '" << line << "'";
    }
  }
  EXPECT_EQ(warnings, 1u);
  EXPECT_EQ(reported, dropped);
  // What was kept is in order, and kept + dropped is everything logged.
  for (size_t i = 1; i < logged.size(); ++i) EXPECT_LT(logged[i - 1], logged[i]);
  EXPECT_EQ(logged.size() + dropped, static_cast<size_t>(next));
  EXPECT_EQ(log.dropped(), dropped);
  EXPECT_TRUE(std::regex_match(lines.back(), warning)) << lines.back();
}

TEST(Log, LoggingWorksAgainAfterTheDropWarning) {
  Pipe pipe;
  ASSERT_GE(::fcntl(pipe.fd[1], F_SETPIPE_SZ, 4096), 4096);
  LoggerOptions options;
  options.max_pending_bytes = 4096;
  Logger log(pipe.fd[1], options);
  int next = 0;
  fill_until_dropping(log, next);
  for (int i = 0; i < 100 && log.pending(); ++i) {
    pipe.read_all();
    log.flush();
  }
  pipe.read_all();
  log.info("uri: ", "/after");
  EXPECT_TRUE(log.flush());
  std::string out = pipe.read_all();
  auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_TRUE(lines[0].ends_with("msg=\"uri: /after\"")) << out;
}

TEST(Log, NeverTearsALineWhenAWriteIsShort) {
  Pipe pipe;
  ASSERT_GE(::fcntl(pipe.fd[1], F_SETPIPE_SZ, 4096), 4096);
  Logger log(pipe.fd[1], LoggerOptions{});  // 1 MiB pending allowed: nothing dropped
  const std::string pad(57, 'p');           // lines that do not divide the pipe's size
  for (int i = 0; i < 400; ++i) log.info("uri: /" + pad + "/", std::to_string(i));
  std::string out;
  for (int i = 0; i < 1000 && !log.flush(); ++i) out += pipe.read_all();
  out += pipe.read_all();
  EXPECT_EQ(log.dropped(), 0u);
  auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 400u);
  ASSERT_TRUE(out.ends_with("\n"));
  for (int i = 0; i < 400; ++i)
    ASSERT_TRUE(lines[static_cast<size_t>(i)].ends_with("/" + std::to_string(i) + "\""))
        << lines[static_cast<size_t>(i)];
}

TEST(Log, AtomicWriteBytesMakesEveryWriteWholeLinesNoLargerThanPipeBuf) {
  Records sink;
  LoggerOptions options;
  options.atomic_write_bytes = PIPE_BUF;
  Logger log(sink.fd[1], options);
  const std::string pad(50, 'q');
  for (int i = 0; i < 300; ++i) log.info("uri: /" + pad + "/", std::to_string(i));
  EXPECT_TRUE(log.flush());
  auto writes = sink.read_all();
  ASSERT_GT(writes.size(), 1u);
  std::string all;
  for (const auto& w : writes) {
    EXPECT_LE(w.size(), size_t{PIPE_BUF});
    EXPECT_TRUE(w.ends_with("\n")) << "a write ends mid-line";
    EXPECT_TRUE(w.starts_with("time=\"")) << "a write starts mid-line";
    all += w;
  }
  auto lines = split_lines(all);
  ASSERT_EQ(lines.size(), 300u);
  for (int i = 0; i < 300; ++i)
    EXPECT_TRUE(lines[static_cast<size_t>(i)].ends_with("/" + std::to_string(i) + "\""));
  // Not one line per write: each write carries as many whole lines as fit.
  EXPECT_LT(writes.size(), 300u / 2);
}

// --- Chunked writes to a file -----------------------------------------------------------

// A scratch regular file, removed when done; `before` bytes already in it.
struct File {
  int fd = -1;
  explicit File(const std::string& before, int flags = 0) {
    char path[] = "/tmp/log_test.XXXXXX";
    fd = ::mkostemp(path, O_CLOEXEC | flags);
    EXPECT_GE(fd, 0);
    ::unlink(path);
    EXPECT_EQ(::write(fd, before.data(), before.size()), static_cast<ssize_t>(before.size()));
  }
  ~File() { ::close(fd); }
  std::string contents() const {
    std::string out(1 << 20, '\0');
    ssize_t n = ::pread(fd, out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }
  size_t size() const { return contents().size(); }
};

LoggerOptions chunked(size_t chunk, uint32_t hold_ms) {
  LoggerOptions options;
  options.file_chunk_bytes = chunk;
  options.max_hold_ms = hold_ms;
  return options;
}

// Appends lines "uri: /<i>" for i in [from, to) and returns them as the file will hold them
// (but for the clock's digits: compare with same_bytes()).
std::string log_lines(Logger& log, int from, int to) {
  for (int i = from; i < to; ++i) log.info("uri: /", std::to_string(i));
  Records sink;  // the same lines, formatted by a second Logger, to know their bytes
  Logger copy(sink.fd[1], LoggerOptions{});
  for (int i = from; i < to; ++i) copy.info("uri: /", std::to_string(i));
  copy.flush();
  std::string all;
  for (const auto& w : sink.read_all()) all += w;
  return all;
}

// Equal, except that a digit may stand for another: the two Loggers of log_lines() can read
// the clock in different seconds. Lines are in order: each number has its own length.
::testing::AssertionResult same_bytes(const std::string& actual, const std::string& expected) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << actual.size() << " bytes, expected " << expected.size();
  for (size_t i = 0; i < actual.size(); ++i)
    if (actual[i] != expected[i] && !(std::isdigit(static_cast<unsigned char>(actual[i])) &&
                                      std::isdigit(static_cast<unsigned char>(expected[i]))))
      return ::testing::AssertionFailure() << "byte " << i << " differs:\n" << actual;
  // The messages' own digits must not have moved: each whole line's number is the next one.
  static const std::regex message(R"re(msg="uri: /(\d+)"\n)re");
  int next = -1;
  for (std::sregex_iterator m(actual.begin(), actual.end(), message), end; m != end; ++m) {
    int n = std::stoi((*m)[1].str());
    if (next >= 0 && n != next)
      return ::testing::AssertionFailure() << "line " << n << " out of order";
    next = n + 1;
  }
  return ::testing::AssertionSuccess();
}

TEST(Log, ToAFileWritesEndOnChunkBoundariesOfTheFileAndTheTailFollowsWhenTheLoadStops) {
  const std::string before(1000, 'x');
  File file(before);
  Logger log(file.fd, chunked(4096, 10));
  std::string expected = before + log_lines(log, 0, 300);  // about 16 KB
  ASSERT_GT(expected.size(), 3u * 4096);
  // Under load: only up to the last 4096-byte boundary of the file; asked to run again by 110.
  EXPECT_EQ(log.flush_due(100), 110u);
  size_t boundary = expected.size() / 4096 * 4096;
  EXPECT_TRUE(same_bytes(file.contents(), expected.substr(0, boundary)));
  // More lines, still short of the next boundary: nothing is written.
  expected += log_lines(log, 300, 310);
  ASSERT_LT(expected.size(), boundary + 4096);
  EXPECT_EQ(log.flush_due(105), 110u);
  EXPECT_EQ(file.size(), boundary);
  // An iteration that logged nothing: the load is over, the tail goes out whole.
  EXPECT_EQ(log.flush_due(106), 0u);
  EXPECT_TRUE(same_bytes(file.contents(), expected));
  EXPECT_FALSE(log.pending());
  EXPECT_EQ(log.flush_due(107), 0u);  // nothing pending, nothing held
  EXPECT_TRUE(same_bytes(file.contents(), expected));
}

TEST(Log, AHeldTailWaitsNoLongerThanMaxHoldMs) {
  File file("");
  Logger log(file.fd, chunked(1 << 20, 10));  // lines that never reach a chunk boundary
  std::string expected = log_lines(log, 0, 1);
  EXPECT_EQ(log.flush_due(200), 210u);
  expected += log_lines(log, 1, 2);
  EXPECT_EQ(log.flush_due(209), 210u);
  EXPECT_EQ(file.size(), 0u);
  expected += log_lines(log, 2, 3);
  EXPECT_EQ(log.flush_due(210), 0u);  // held 10 ms although lines keep coming: written
  EXPECT_TRUE(same_bytes(file.contents(), expected));
}

TEST(Log, AnAppendingFileCountsChunksFromItsEnd) {
  const std::string before(5000, 'y');
  File file(before, O_APPEND);
  ASSERT_EQ(::lseek(file.fd, 0, SEEK_SET), 0);  // where the next write goes is still the end
  Logger log(file.fd, chunked(4096, 10));
  std::string expected = before + log_lines(log, 0, 200);
  log.flush_due(1);
  EXPECT_EQ(file.size(), expected.size() / 4096 * 4096);
  log.flush_due(2);
  EXPECT_TRUE(same_bytes(file.contents(), expected));
}

// logrotate's copytruncate: the file is emptied under the Logger. The next whole write tells
// it where the file ends, and the chunks that follow end on the new file's boundaries.
TEST(Log, FindsTheFileEndAgainAfterTheFileWasTruncatedUnderIt) {
  File file("", O_APPEND);
  Logger log(file.fd, chunked(4096, 10));
  log_lines(log, 0, 100);
  log.flush_due(1);
  EXPECT_EQ(log.flush_due(2), 0u);  // quiet: all written
  ASSERT_GT(file.size(), 4096u);
  ASSERT_EQ(::ftruncate(file.fd, 0), 0);
  std::string expected = log_lines(log, 100, 103);
  log.flush_due(3);
  EXPECT_EQ(log.flush_due(4), 0u);
  ASSERT_TRUE(same_bytes(file.contents(), expected));
  expected += log_lines(log, 103, 300);
  log.flush_due(5);
  EXPECT_EQ(file.size(), expected.size() / 4096 * 4096);
  log.flush_due(6);
  EXPECT_TRUE(same_bytes(file.contents(), expected));
}

TEST(Log, WithoutAChunkSizeOrToAPipeEveryIterationWritesEverything) {
  File file("");
  Logger whole(file.fd, LoggerOptions{});
  std::string expected = log_lines(whole, 0, 300);
  EXPECT_EQ(whole.flush_due(1), 0u);
  EXPECT_TRUE(same_bytes(file.contents(), expected));

  Records sink;
  Logger to_socket(sink.fd[1], chunked(4096, 10));
  expected = log_lines(to_socket, 0, 300);
  EXPECT_EQ(to_socket.flush_due(1), 0u);
  auto writes = sink.read_all();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_TRUE(same_bytes(writes[0], expected));
}

TEST(Log, CountsLinesLostWhenTheReaderIsGone) {
  Records sink;
  Logger log(sink.fd[1], LoggerOptions{});
  ::close(sink.fd[0]);
  sink.fd[0] = -1;
  log.info("a");
  log.info("b");
  log.info("c");
  // The peer is gone: write() fails with EPIPE (and raises SIGPIPE, ignored for this test,
  // as the server ignores it).
  auto old = ::signal(SIGPIPE, SIG_IGN);
  EXPECT_TRUE(log.flush());
  ::signal(SIGPIPE, old);
  EXPECT_FALSE(log.pending());
  EXPECT_EQ(log.dropped(), 3u);
}

TEST(Logger, WritesFieldsAfterTheMessageQuotedWhereLogrusQuotesAndEscapedAsJson) {
  Pipe pipe;
  Logger log(pipe.fd[1], {LogFormat::text});
  const LogField fields[] = {
      {"bytes", {}, 153, true}, {"empty", ""}, {"path", "/a/b.c"}, {"target", "/\xff\"\\\x01 x"}};
  log.info_fields("access", fields);
  log.flush();
  std::string line = pipe.read_all();
  EXPECT_TRUE(std::regex_match(
      line, std::regex("time=\"" + kRfc3339 +
                       "\" level=info msg=access bytes=153 empty=\"\" "
                       "path=/a/b.c target=\"/\\\\ufffd\\\\\"\\\\\\\\\\\\u0001 x\"\n")))
      << line;
}

TEST(Logger, WritesFieldsAsJsonMembersBetweenMsgAndTime) {
  Pipe pipe;
  Logger log(pipe.fd[1], {LogFormat::json});
  const LogField fields[] = {{"bytes", {}, 7, true}, {"target", "/<\"x\">"}};
  log.info_fields("access", fields);
  log.flush();
  std::string line = pipe.read_all();
  EXPECT_TRUE(std::regex_match(
      line, std::regex("\\{\"level\":\"info\",\"msg\":\"access\",\"bytes\":7,"
                       "\"target\":\"/\\\\u003c\\\\\"x\\\\\"\\\\u003e\",\"time\":\"" +
                       kRfc3339 + "\"\\}\n")))
      << line;
}

}  // namespace
}  // namespace hs
