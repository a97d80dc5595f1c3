// libFuzzer target over a connection's request loop: arbitrary bytes, delivered in arbitrary
// splits, through the Exchange a Connection runs (driven by tests/support/exchange_driver.hpp:
// no socket, no syscalls), answered in every way a handler can answer, then checks of what
// came out.
//
// Input format: byte 0 is the plan, byte 1 the modes, the rest is what the client sends. So a
// seed file in corpus/ is two bytes followed by requests exactly as a client writes them.
//   plan & 3         largest piece handed to receive(): 1, 7, 64 or 700 bytes (piece sizes are
//                    drawn from a small PRNG seeded with the plan and the input length)
//   (plan >> 2) & 7  that PRNG's seed
//   plan & 0xc0      both set: the server is draining (every response closes)
//   modes            which ways of answering are in play (fuzz_handler.hpp: Modes): bodies read
//                    as they arrive (0x01), streamed responses and bodies elsewhere (0x02),
//                    deferred responses (0x04), readers that pause, stop or do not read
//                    (0x08), a small output high-water mark (0x10), two connections in the
//                    split run (0x20), handlers that send other requests' deferred responses
//                    (0x40), take-overs (0x80). Markers in a target choose too (same file).
// The order in which pending things (deferred responses, paused readers, idle producers) are
// done between pieces is drawn from the plan, the modes and the input length (fuzz_harness).
// The input always ends with the client's EOF. Deadlines (the 408 of an expired header
// timeout) need a socket and a clock: tests/integration/deadlines_test.cpp covers them; the
// 504 of a deferred response is asked for directly (Exchange::deferred_timed_out).
//
// The same bytes are fed unsplit (as one read, or as much as the exchange takes), and in
// pieces (with mode 0x20 to two connections at once, whose deferred responses are then
// pending together and sent in random order); all runs must produce the same responses and
// handler calls. What may differ, and why:
//   - Date values; 100 Continue interim responses (whether the client is asked to continue
//     depends on whether the body was already there);
//   - which error closes a request that is both too large and malformed (see
//     is_limit_error): the reads decide which one is found first. Unsplit runs may read in
//     different pieces too, as the pool keeps large read buffers: a head that outgrows its
//     buffer gets the smallest free one that fits, larger than a new one would be;
//   - where a BodyReader that says stop is stopped: the reads cut the body, and when stop
//     comes with the body's last piece the body was read whole and the connection stays
//     open, else the rest is unread and it closes. Its answer (a checksum of the bytes before
//     the stop point) must agree; its "Connection: close", and everything after it, need not.
// The unsplit run is made twice, with the one-pass parser for common heads (common_head.hpp)
// and without it (llhttp parses every head): the handler calls, fields included, and the
// responses must be identical, errors too (that parser declines what it does not accept).
// A third unsplit run stops at every head with a body (CodecRules::head_first, as with a
// ServerOptions::stream_body) and then reads the body whole: identical again. With bodies read
// as they arrive (mode 0x01) heads stop there in every run, and that run is instead one more
// split run with small pieces.
//
// Checked on every run, beyond "no crash, no sanitizer report" (a violation aborts with a
// message, which libFuzzer saves as a crash):
//   - the output is a sequence of well-formed HTTP/1.1 responses (response_reader.hpp);
//   - every handler call gets exactly one final response, in order (X-Seq increases by one),
//     carrying what the handler set (the echoed target and body or the body's checksum, its
//     status) however it was sent: at once, streamed, from elsewhere, deferred; a dropped
//     deferred response gets 500, a timed-out one 504; a throwing handler gets 500 and
//     "Connection: close"; a body reader cut off by an error gets that error; every other
//     final response is the connection's own (CONNECT's 501, or an error that closes), and
//     the stats count them all;
//   - after a response with "Connection: close" nothing more is written and the handler is
//     never called again; at most one 100 Continue per request;
//   - a take-over's response is the last output, the connection is handed over, and the
//     taker gets exactly the bytes the connection read past that request;
//   - the Request the handler sees keeps the limits and RFC 9112's rules, and is one the
//     strict reader (strict_reader.hpp) finds, with the same body; a body read as it arrives
//     is a prefix of that body when it did not end.
// Bugs already found and not yet fixed in src/ are listed in known_bugs next to this file;
// CONNECTION_FUZZ_KNOWN_BUGS relaxes their checks for a long run (see known_bug()).
// CONNECTION_FUZZ_VERBOSE=1 prints each input's unsplit output.
#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httpserver/http.hpp>
#include <httpserver/log.hpp>
#include <httpserver/reactor.hpp>

#include "exchange_shared.hpp"
#include "fuzz_handler.hpp"
#include "fuzz_harness.hpp"
#include "fuzz_report.hpp"
#include "response_reader.hpp"
#include "strict_reader.hpp"

namespace {

using namespace fuzz;
using hs::iequals;

hs::Limits fuzz_limits() {
  hs::Limits l;
  l.max_header_bytes = 512;
  l.max_target_bytes = 128;
  l.max_body_bytes = 256;
  l.max_chunk_line_bytes = 40;
  l.max_chunk_extension_bytes = 100;
  l.read_buffer_bytes = 256;
  return l;
}

// --- Checks of one connection's run -----------------------------------------------------------

bool is_servers_deferred(const Seen& s, int status) {
  Deferral d = s.choice.deferral;
  return (status == 500 && (d == Deferral::drop_now || d == Deferral::drop_later)) ||
         (status == 504 && d == Deferral::time_out);
}

// A handler call whose body reader was cut off (abort()) rather than answering.
bool aborted(const Seen& s) { return s.aborted >= 0 && !s.ended; }

// Whether a response to `s` says "Connection: close" as it should. A reader that said stop
// closes the connection unless it stopped at the body's last piece.
bool closes_as_asked(const Seen& s, bool closes) {
  return closes == s.closes || (s.reader_stopped && closes);
}

// Every check that needs only one connection's output and handler calls. Returns how many
// responses and refusals the stats should have counted for it.
size_t check_run(Outcome& o, bool draining) {
  std::string_view out = o.output;
  size_t pos = 0, next_seq = 0, connects = 0, errors = 0, cut_off = 0;
  bool closed_by_response = false, interim_pending = false;
  while (pos < out.size()) {
    require(!closed_by_response, "output after a response that closes or hands over",
            out.substr(pos));
    Parsed p = parse_response(out, pos, o.seen, next_seq);
    if (p.status == 100) {
      require(!interim_pending, "two 100 Continue for one request", out);
      interim_pending = true;
      continue;
    }
    interim_pending = false;
    bool closes = p.closes();
    const Seen* next = next_seq < o.seen.size() ? &o.seen[next_seq] : nullptr;
    if (auto seq = p.field("X-Seq")) {
      size_t index = std::stoul(std::string(*seq));
      require(index == next_seq, "handler responses out of order or repeated", out);
      const Seen& s = o.seen[index];
      require(!s.threw && !aborted(s), "a response of a handler that threw or was cut off", p.raw);
      require(!is_servers_deferred(s, 500) && !is_servers_deferred(s, 504),
              "a dropped or timed-out deferred response went out as the handler's", p.raw);
      require(p.status == s.status, "status differs from the handler's", p.raw);
      if (s.method != "HEAD" && p.status != 204 && p.status != 304 && p.status != 101)
        require(p.body == s.answer, "body differs from the handler's", p.raw);
      require(closes_as_asked(s, closes), "Connection: close differs from what the request asked",
              p.raw);
      auto keep_alive = p.field("Connection");
      require((keep_alive && *keep_alive == "keep-alive") == (s.keep_alive_10 && !closes),
              "HTTP/1.0 keep-alive not confirmed (or confirmed wrongly)", p.raw);
      auto host = p.field("X-Host");
      require(host && *host == s.host, "X-Host differs from the request's Host", p.raw);
      if (s.choice.take != Taking::none) {
        require(!closes, "a take-over's response says close", p.raw);
        require(pos == out.size(), "output after a take-over's response", out);
        require(o.handed_over && s.taken, "a take-over's response, but no hand-over", p.raw);
        closed_by_response = true;
      }
      p.answers = static_cast<long>(next_seq++);
    } else if (p.status == 500 && next && next->threw) {
      require(closes && p.body == "500 Internal Server Error\n",
              "a throwing handler did not get 500 and close", p.raw);
      p.answers = static_cast<long>(next_seq++);
    } else if (next && is_servers_deferred(*next, p.status)) {
      std::string want = p.status == 500 ? "500 Internal Server Error\n" : "504 Gateway Timeout\n";
      require(next->method == "HEAD" || p.body == want, "the server's deferred answer", p.raw);
      require(closes_as_asked(*next, closes), "Connection: close differs on a deferred 500/504",
              p.raw);
      p.answers = static_cast<long>(next_seq++);
    } else if (p.status == 501 && p.body == "501 Not Implemented\n" && !closes) {
      require(!draining, "a response that does not close while draining", p.raw);
      ++connects;  // CONNECT, answered by the connection itself
    } else {
      require(closes, "a response of the connection's own that does not close", p.raw);
      std::string want =
          std::to_string(p.status) + " " + std::string(hs::status_text(p.status)) + "\n";
      // CONNECT on a closing request gives the same 501 as an unknown method.
      require(p.body == want || (p.status == 501 && p.body == "501 Not Implemented\n"),
              "error body is not \"NNN Reason\"", p.raw);
      require(p.status == 400 || p.status == 413 || p.status == 414 || p.status == 417 ||
                  p.status == 431 || p.status == 501 || p.status == 505,
              "unexpected status from the connection", p.raw);
      ++errors;
      // The error that cut a body reader off answers for its request.
      if (next && aborted(*next)) {
        require(next->aborted == p.status, "a body reader aborted with another status", p.raw);
        p.answers = static_cast<long>(next_seq++);
        ++cut_off;
      }
    }
    if (closes) closed_by_response = true;
    o.finals.push_back(std::move(p));
  }
  // A body cut short by the client's EOF: no answer.
  if (next_seq + 1 == o.seen.size() && aborted(o.seen[next_seq]) && o.seen[next_seq].aborted == 0)
    ++next_seq, ++cut_off;
  require(next_seq == o.seen.size(), "a handler call without its response", out);
  for (const Seen& s : o.seen)
    require(!s.at_head || s.threw || s.choice.reading == Reading::unread ||
                s.choice.take != Taking::none || s.ended || s.aborted >= 0,
            "a body reader neither ended nor aborted", s.target);
  return o.seen.size() - cut_off + connects + errors;
}

// Every handler call must be one of the requests the strict reader finds, in order; a
// take-over's taker must get what followed its request, as far as the connection read.
void check_against_strict_reader(const Outcome& o, std::string_view input) {
  if (o.seen.empty()) return;
  std::vector<StrictRequest> strict = read_strict(input);
  size_t next = 0;
  for (const Seen& s : o.seen) {
    while (next < strict.size() && strict[next].method == "CONNECT") ++next;
    if (next >= strict.size())
      violation(
          "the handler got a request that a strict RFC 9112 reader refuses "
          "(request " +
              std::to_string(next) + ", target " + s.target + ")",
          input);
    const StrictRequest& r = strict[next++];
    // A body read as it arrives that did not end, or was stopped, or never read: a prefix.
    bool partial = s.at_head && (!s.ended || s.reader_stopped);
    bool same_body =
        partial ? r.body.compare(0, s.body.size(), s.body) == 0 && s.body.size() <= r.body.size()
                : r.body == s.body && r.complete;
    if (r.method != s.method || r.target != s.target || !same_body) {
      std::fprintf(stderr, "strict reader: %s %s, %s body:\n", r.method.c_str(), r.target.c_str(),
                   r.complete ? "complete" : "incomplete");
      print_escaped(r.body);
      std::fprintf(stderr, "handler saw: %s %s, body:\n", s.method.c_str(), s.target.c_str());
      print_escaped(s.body);
      violation("the handler saw a request that a strict RFC 9112 reader reads differently", input);
    }
    if (s.taken) {
      size_t from = s.at_head ? r.head_end : r.end;
      require(from <= o.taken && input.substr(from, o.taken - from) == s.already_read,
              "the taker did not get exactly what the client sent past its request", input);
    }
  }
}

// --- Comparing runs -----------------------------------------------------------------------

hs::Reactor& reactor() {
  static hs::Reactor r;
  return r;
}

hs::Logger& error_log() {
  static int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  static hs::Logger log(null_fd, hs::LoggerOptions{});
  return log;
}

bool is_connection_error(const Parsed& p) {
  return !p.field("X-Seq") && p.closes() && p.status >= 400 && p.status != 500 && p.status != 504;
}

bool is_limit_error(const Parsed& p) {
  return p.status == 413 || p.status == 414 || p.status == 431;
}

// Which error a client gets for a request that is both too large and malformed depends on
// where the reads end: llhttp reports a span (target, field, body) when the span ends or when
// llhttp_execute returns, so the connection sees the limit crossed early in small pieces but
// sees the syntax error first when the same bytes come at once. Both answers close, after
// the same earlier responses and the same handler calls; only the code differs. That much is
// tolerated (and counted); a request answered in one run and refused in the other is not.
size_t g_tolerated_error_mismatches = 0;
// Runs that stopped comparing at a BodyReader's stop (see the top of this file).
size_t g_compared_to_stop = 0;

bool same_seen(const Seen& a, const Seen& b) {
  bool partial = a.reader_stopped || b.reader_stopped || aborted(a) || aborted(b);
  return a.method == b.method && a.target == b.target && a.host == b.host && a.answer == b.answer &&
         (partial || a.body == b.body);
}

// Returns an empty string when two runs answered alike, else what differs. `strict`: the
// handler calls must agree in every field too, and errors exactly.
std::string difference(const Outcome& a, const Outcome& b, bool strict) {
  // Up to the first reader that stopped in either run, everything must agree; after it, what
  // the connection does depends on where the reads cut the body. So does whether the reader
  // stops at all when the body turns malformed past its stop point: the codec may find the
  // error before it hands out the piece that would have reached it (abort() in one run, stop
  // in the other).
  size_t calls = std::min(a.seen.size(), b.seen.size());
  size_t stop = calls;
  for (size_t i = 0; i < calls; ++i)
    if (a.seen[i].reader_stopped || b.seen[i].reader_stopped) {
      stop = i;
      break;
    }
  if (stop == calls && a.seen.size() != b.seen.size()) return "a different number of handler calls";
  bool stop_cut = stop < calls && aborted(a.seen[stop]) != aborted(b.seen[stop]);
  for (size_t i = 0; i < calls && i <= stop; ++i) {
    const Seen &x = a.seen[i], &y = b.seen[i];
    if (i == stop && stop_cut) break;
    if (!same_seen(x, y)) return "the handler saw a different request " + std::to_string(i);
    if (strict && (x.fields != y.fields || x.minor != y.minor || x.keep_alive != y.keep_alive ||
                   x.closes != y.closes))
      return "the handler saw a different request " + std::to_string(i);
  }
  size_t finals = std::min(a.finals.size(), b.finals.size());
  for (size_t i = 0; i < finals; ++i) {
    const Parsed &x = a.finals[i], &y = b.finals[i];
    bool at_stop = stop < calls &&
                   (x.answers == static_cast<long>(stop) || y.answers == static_cast<long>(stop));
    if (at_stop && stop_cut) {
      ++g_compared_to_stop;
      return {};
    }
    if (without_date(x, !at_stop) == without_date(y, !at_stop)) {
      if (at_stop) {
        ++g_compared_to_stop;
        return {};
      }
      continue;
    }
    bool last = i + 1 == a.finals.size() && i + 1 == b.finals.size();
    if (last && is_connection_error(x) && is_connection_error(y) &&
        (is_limit_error(x) || is_limit_error(y))) {
      ++g_tolerated_error_mismatches;
      continue;
    }
    return "response " + std::to_string(i) + " differs";
  }
  if (stop_cut) return {};  // the one that stopped was not answered in either
  if (a.finals.size() != b.finals.size()) return "a different number of responses";
  if (a.handed_over != b.handed_over) return "one handed over, the other did not";
  if (strict && a.closed != b.closed) return "one closed, the other did not";
  return {};
}

std::string describe(const Outcome& o) {
  std::string s;
  for (const Parsed& p : o.finals) s += std::to_string(p.status) + " ";
  return s + "(" + std::to_string(o.seen.size()) + " handler calls)";
}

void compare(const Outcome& whole, const Outcome& other, std::string_view how, bool strict) {
  std::string diff = difference(whole, other, strict);
  if (diff.empty()) return;
  std::fprintf(stderr, "--- unsplit output ---\n");
  print_escaped(whole.output);
  std::fprintf(stderr, "--- %.*s output ---\n", static_cast<int>(how.size()), how.data());
  print_escaped(other.output);
  violation(std::string(how) + " answered differently from unsplit: " + diff + ": unsplit " +
                describe(whole) + ", " + std::string(how) + " " + describe(other),
            other.output);
}

// Runs the input once per feed on `shared` and checks each connection's run. The stats of
// `shared` must count every response and refusal of all of them.
std::vector<Outcome> run(hs::ExchangeShared& shared, World& world, std::string_view input,
                         const std::vector<Feed>& feeds) {
  world.rng = world.salt | 1;  // the same order of pending things in every run
  hs::ConnectionStats before = shared.worker.stats;
  std::vector<Outcome> outcomes;
  g_world = &world;
  drive(shared, world, input, feeds, outcomes);
  g_world = nullptr;
  error_log().flush();
  hs::ConnectionStats after = shared.worker.stats;
  size_t counted = 0, throws = 0;
  for (Outcome& o : outcomes) {
    counted += check_run(o, shared.worker.draining);
    check_against_strict_reader(o, input);
    for (const Seen& s : o.seen) throws += s.threw;
  }
  require(after.handler_errors - before.handler_errors == throws,
          "handler_errors does not count the 500s", outcomes[0].output);
  require(
      (after.requests - before.requests) + (after.client_errors - before.client_errors) == counted,
      "requests + client_errors do not count the responses", outcomes[0].output);
  return outcomes;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit([] {
    if (g_tolerated_error_mismatches != 0)
      std::fprintf(stderr,
                   "connection_fuzz: %zu inputs got a different error code split than "
                   "unsplit (tolerated: a limit error against another error)\n",
                   g_tolerated_error_mismatches);
    if (g_compared_to_stop != 0)
      std::fprintf(stderr, "connection_fuzz: %zu comparisons ended at a body reader's stop\n",
                   g_compared_to_stop);
    if (g_tolerated_known_bug != 0)
      std::fprintf(stderr,
                   "connection_fuzz: %zu inputs hit a known bug (CONNECTION_FUZZ_KNOWN_BUGS) "
                   "in the split/unsplit comparison\n",
                   g_tolerated_known_bug);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint8_t plan = data[0];
  World world;
  world.modes.bits = data[1];
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  static constexpr size_t kMaxPiece[4] = {1, 7, 64, 700};
  uint32_t seed =
      static_cast<uint32_t>(((plan >> 2) & 7) + 1) * 2654435761u ^ static_cast<uint32_t>(size);
  Feed whole, split{true, {seed ? seed : 1, kMaxPiece[plan & 3]}};
  world.salt = seed ^ (static_cast<uint32_t>(world.modes.bits) << 24);
  world.limits = fuzz_limits();
  if (world.modes.small_output()) world.limits.output_high_water = 64;

  // One ExchangeShared for every run, as one reactor's connections share it: later runs get
  // the buffers earlier ones gave back to the pools.
  hs::ExchangeShared shared(reactor(), world.limits, handle, &error_log(),
                            std::string(kServerName));
  shared.worker.draining = (plan & 0xc0) == 0xc0;
  if (world.modes.stream_bodies()) {
    shared.settings.stream_body = stream_body;
    shared.worker.codec_rules.head_first = true;
  }

  std::vector<Outcome> unsplit = run(shared, world, input, {whole});
  std::vector<Feed> split_feeds = {split};
  if (world.modes.twins()) {
    Feed twin{true, {(seed ^ 0x9e3779b9U) | 1, kMaxPiece[(plan + 1) & 3]}};
    split_feeds.push_back(twin);
  }
  std::vector<Outcome> pieces = run(shared, world, input, split_feeds);
  shared.worker.codec_rules.common_heads = false;
  std::vector<Outcome> llhttp_only = run(shared, world, input, {whole});
  shared.worker.codec_rules.common_heads = true;
  compare(unsplit[0], llhttp_only[0], "llhttp only", true);
  if (world.modes.stream_bodies()) {
    Feed small{true, {seed ^ 0x5bd1e995U ? seed ^ 0x5bd1e995U : 1, 3}};
    std::vector<Outcome> smaller = run(shared, world, input, {small});
    compare(unsplit[0], smaller[0], "small pieces", false);
  } else {
    shared.worker.codec_rules.head_first = true;
    std::vector<Outcome> head_first = run(shared, world, input, {whole});
    shared.worker.codec_rules.head_first = false;
    compare(unsplit[0], head_first[0], "head first", true);
  }
  // CONNECTION_FUZZ_VERBOSE=1 prints each input's unsplit responses: for writing seeds.
  static const bool verbose = std::getenv("CONNECTION_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "=== plan %u modes %u, %zu handler calls, closed %d ===\n", plan,
                 world.modes.bits, unsplit[0].seen.size(), unsplit[0].closed ? 1 : 0);
    print_escaped(unsplit[0].output);
  }
  for (size_t i = 0; i < pieces.size(); ++i)
    compare(unsplit[0], pieces[i], i == 0 ? "split" : "split twin", false);
  return 0;
}
