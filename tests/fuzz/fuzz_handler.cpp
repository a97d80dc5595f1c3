#include "fuzz_handler.hpp"

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <utility>

#include "fuzz_report.hpp"

namespace fuzz {

using hs::iequals;

World* g_world = nullptr;

namespace {

uint32_t mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352dU;
  h ^= h >> 15;
  h *= 0x846ca68bU;
  h ^= h >> 16;
  return h;
}

// FNV-1a, the checksum a BodyReader answers with.
uint32_t fnv(std::string_view bytes) {
  uint32_t h = 2166136261U;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
  return h;
}

// The Request's contract, as the connection promises it to every handler.
void check_request(const hs::Request& q, const hs::Limits& limits) {
  std::string_view ctx = q.target();
  require(!q.method().empty(), "handler got an empty method", ctx);
  require(q.method() != "CONNECT", "handler got CONNECT (the connection answers it 501)", ctx);
  require(!q.target().empty(), "handler got an empty target", ctx);
  require(q.target().size() <= limits.max_target_bytes, "handler got a target past the limit", ctx);
  require(q.body().size() <= limits.max_body_bytes, "handler got a body past the limit", ctx);
  require(q.version_major() == 1 && (q.version_minor() == 0 || q.version_minor() == 1),
          "handler got a version other than 1.0/1.1", ctx);
  require(q.path().size() <= q.target().size(), "path longer than the target", ctx);
  require(!q.body_pending() || q.body().empty(), "a pending body that is already there", ctx);

  size_t head_bytes = 0;
  int hosts = 0, lengths = 0, encodings = 0;
  std::string_view content_length;
  for (const hs::Header& h : q.headers()) {
    require(!h.name.empty(), "empty field name", ctx);
    for (char c : h.name) require(is_tchar(c), "field name with a non-token byte", h.name);
    for (char c : h.value)
      require(c != '\r' && c != '\n' && c != '\0', "field value with CR, LF or NUL", h.value);
    if (!h.value.empty()) {
      require(h.value.front() != ' ' && h.value.front() != '\t' && h.value.back() != ' ' &&
                  h.value.back() != '\t',
              "field value not trimmed", h.value);
    }
    head_bytes += h.name.size() + h.value.size() + 4;
    if (iequals(h.name, "Host")) ++hosts;
    if (iequals(h.name, "Content-Length")) ++lengths, content_length = h.value;
    if (iequals(h.name, "Transfer-Encoding")) ++encodings;
  }
  require(head_bytes <= limits.max_header_bytes, "handler got a header section past the limit",
          ctx);
  require(hosts <= 1, "handler got more than one Host", ctx);
  if (q.version_minor() == 1)
    require(hosts == 1, "HTTP/1.1 request without Host reached the handler", ctx);
  require(!(lengths > 0 && encodings > 0),
          "Content-Length with Transfer-Encoding reached the handler", ctx);
  require(lengths <= 1, "duplicate Content-Length reached the handler", ctx);
  if (lengths == 1) {
    require(all_digits(content_length), "non-numeric Content-Length reached the handler",
            content_length);
    // Leading zeros are legal; compare the value, not the text.
    size_t value = 0;
    for (char c : content_length) {
      value = value * 10 + static_cast<size_t>(c - '0');
      if (value > (1u << 30)) break;
    }
    if (!q.body_pending())
      require(value == q.body().size(), "body length differs from Content-Length", ctx);
  }
  if (lengths == 0 && encodings == 0)
    require(q.body().empty() && !q.body_pending(),
            "body without Content-Length or Transfer-Encoding", ctx);
}

// Writes a Seen's answer in pieces of at most Choice::piece, a few a call while the writer is
// ready, and now and then nothing at all (Choice::idle_bits): then it waits for the driver to
// call its waker, or calls it itself. What it writes depends on nothing but the answer and the
// choice, so every run sends the same chunks.
struct Producer {
  std::string content;
  Choice choice;
  size_t client = 0;
  size_t at = 0, calls = 0;

  void operator()(hs::BodyWriter& w) {
    size_t call = calls++;
    if (at < content.size() && ((choice.idle_bits >> (call % 32)) & 1)) {
      if (choice.self_wake) return w.waker()();
      Pending p;
      p.kind = Pending::Kind::wake;
      p.client = client;
      p.call = w.waker();
      g_world->pending.push_back(std::move(p));
      return;
    }
    for (int i = 0; i < 3 && at < content.size() && w.ready(); ++i) {
      size_t n = std::min(choice.piece, content.size() - at);
      w.write(std::string_view(content).substr(at, n));
      w.write({});  // ignored
      at += n;
    }
    if (at == content.size()) w.end();
  }
};

// Fills a response as the handler means it: status, fields, and the answer as a body, a
// stream, or a body elsewhere.
void fill(hs::Response& r, const Seen& s, size_t client, size_t index) {
  r.status = s.status;
  r.set_header("Content-Type", "text/plain");
  r.set_header("X-Seq", std::to_string(index));
  r.set_header("X-Host", s.host);
  if (contains(s.target, "/reserved")) {
    r.set_header("Content-Length", "99999");
    r.set_header("Transfer-Encoding", "chunked");
    r.set_header("Date", "yesterday");
    r.set_header("Server", "impostor");
    r.set_header("Connection", "keep-alive");
  }
  if (contains(s.target, "/close")) r.set_header("Connection", "close");
  if (s.choice.streams) {
    r.stream(Producer{s.answer, s.choice, client});
  } else if (s.choice.elsewhere) {
    r.send_shared(std::make_shared<const std::string>(s.answer));
  } else {
    r.body.assign(s.answer);
  }
}

// Whether the response to `s` says "Connection: close", given how it is answered. A deferred
// response that is dropped (500) or times out (504) is the server's: no fields of the
// handler's, no stream.
void decide_closing(Seen& s, bool draining) {
  bool servers = s.choice.deferral == Deferral::drop_now ||
                 s.choice.deferral == Deferral::drop_later ||
                 s.choice.deferral == Deferral::time_out;
  bool unread = s.at_head && (s.choice.reading == Reading::unread || s.choice.take != Taking::none);
  s.closes = !s.keep_alive || draining || unread;
  if (!servers) {
    s.closes = s.closes || contains(s.target, "/close") || (s.choice.streams && s.minor == 0);
  }
  if (s.choice.take != Taking::none) s.closes = false;  // the taker's to close
  s.keep_alive_10 = s.keep_alive && s.minor == 0 && !s.closes && s.choice.take == Taking::none;
  if (servers) s.status = s.choice.deferral == Deferral::time_out ? 504 : 500;
}

// Answers `run.seen[index]` through `r` (the handler's response, or a BodyReader's): at once,
// or deferred as its choice says.
void answer_with(hs::Response& r, Run& run, size_t index) {
  Seen& s = run.seen[index];
  switch (s.choice.deferral) {
    case Deferral::none:
      return fill(r, s, run.client, index);
    case Deferral::now: {
      hs::Deferred d = r.defer();
      fill(d.response(), s, run.client, index);
      d.send();
      require(!d.pending(), "a deferred response sent is still pending");
      return;
    }
    case Deferral::drop_now: {
      hs::Deferred d = r.defer();
      d.response().status = 299;  // dropped unsent: the server answers 500 instead
      return;
    }
    case Deferral::later:
    case Deferral::drop_later:
    case Deferral::time_out: {
      Pending p;
      p.kind = Pending::Kind::deferred;
      p.client = run.client;
      p.run = &run;
      p.index = index;
      p.handle = r.defer();
      require(p.handle.pending(), "a new deferred response is not pending");
      g_world->pending.push_back(std::move(p));
      return;
    }
  }
}

// Reads a body as it arrives, pausing, resuming itself or stopping as the choice says, and
// answers with its length and checksum: of all of it, or of the first Choice::stop_at bytes
// when it stops (where it stops depends on how the reads cut the body; those bytes do not).
class Reader final : public hs::BodyReader {
 public:
  Reader(Run& run, size_t index) : run_(run), index_(index) {}

  Next data(std::string_view piece) override {
    Seen& s = run_.seen[index_];
    require(!piece.empty(), "an empty body piece", s.target);
    require(!s.ended && s.aborted < 0, "data() after end() or abort()", s.target);
    s.body.append(piece);
    size_t call = calls_++;
    const Choice& c = s.choice;
    switch (c.reading) {
      case Reading::stop:
        if (s.body.size() >= c.stop_at) {
          s.reader_stopped = true;
          return Next::stop;
        }
        return Next::more;
      case Reading::pause:
        if (!((c.pause_bits >> (call % 32)) & 1)) return Next::more;
        {
          Pending p;
          p.kind = Pending::Kind::resume;
          p.client = run_.client;
          p.call = resumer();
          g_world->pending.push_back(std::move(p));
        }
        return Next::pause;
      case Reading::pause_resumed:
        if (!((c.pause_bits >> (call % 32)) & 1)) return Next::more;
        resume();  // before data() returns: the pause it returns is cancelled
        return Next::pause;
      default:
        return Next::more;
    }
  }

  void end(hs::Response& r) override {
    Seen& s = run_.seen[index_];
    require(!s.ended && s.aborted < 0, "end() twice, or after abort()", s.target);
    s.ended = true;
    std::string_view counted = s.body;
    if (s.choice.reading == Reading::stop && counted.size() > s.choice.stop_at)
      counted = counted.substr(0, s.choice.stop_at);
    char sum[64];
    std::snprintf(sum, sizeof sum, "len=%zu fnv=%08x", counted.size(), fnv(counted));
    s.answer = s.target + "\n" + sum;
    answer_with(r, run_, index_);
  }

  void abort(int status) noexcept override {
    Seen& s = run_.seen[index_];
    if (s.ended || s.aborted >= 0) violation("abort() after end() or abort()", s.target);
    s.aborted = status;
  }

 private:
  Run& run_;
  size_t index_;
  size_t calls_ = 0;
};

// Inside a handler: sends (or drops) a deferred response of another request, perhaps another
// connection's, as a host answering one request may complete another.
void send_someone_elses() {
  World& w = *g_world;
  if (w.pending.empty() || (w.next_random() & 3) != 0) return;
  size_t at = w.next_random() % w.pending.size();
  Pending& p = w.pending[at];
  if (p.kind != Pending::Kind::deferred ||
      p.run->seen[p.index].choice.deferral == Deferral::time_out)
    return;
  Pending taken = std::move(p);
  w.pending.erase(w.pending.begin() + static_cast<std::ptrdiff_t>(at));
  perform(taken, nullptr);
}

}  // namespace

Choice choose(Modes modes, std::string_view target, size_t index, uint32_t salt) {
  Choice c;
  uint32_t h = mix(salt ^ mix(static_cast<uint32_t>(index) + 0x9e3779b9U));
  if (modes.stream_responses()) {
    c.streams = (h & 3) == 1 || (h & 3) == 2;
    c.elsewhere = (h & 3) == 3;
  }
  c.piece = 1 + ((h >> 2) & 15);
  c.idle_bits = mix(h) & 0x55555555U;  // never two idle calls in a row
  c.self_wake = (h >> 6) & 1;
  if (modes.defer()) {
    static constexpr Deferral kDeferrals[8] = {
        Deferral::none,     Deferral::later,      Deferral::later,    Deferral::now,
        Deferral::drop_now, Deferral::drop_later, Deferral::time_out, Deferral::later};
    c.deferral = kDeferrals[(h >> 8) & 7];
  }
  if (modes.readers_vary()) {
    static constexpr Reading kReadings[6] = {Reading::all,  Reading::pause,  Reading::pause_resumed,
                                             Reading::stop, Reading::unread, Reading::pause};
    c.reading = kReadings[((h >> 11) & 0xff) % 6];
  }
  c.stop_at = (h >> 19) & 63;
  c.pause_bits = mix(h ^ 0x5bd1e995U) | 1;
  if (modes.take_over() && ((h >> 25) & 7) == 0)
    c.take = (h >> 28) & 1 ? Taking::upgrade101 : Taking::ok200;

  if (contains(target, "/stream")) c.streams = true, c.elsewhere = false, c.idle_bits = 0;
  if (contains(target, "/idle")) c.streams = true, c.elsewhere = false, c.idle_bits = 0x55555555U;
  if (contains(target, "/shared")) c.elsewhere = true, c.streams = false;
  if (contains(target, "/defer")) c.deferral = Deferral::later;
  if (contains(target, "/now")) c.deferral = Deferral::now;
  if (contains(target, "/drop")) c.deferral = Deferral::drop_later;
  if (contains(target, "/dropnow")) c.deferral = Deferral::drop_now;
  if (contains(target, "/late")) c.deferral = Deferral::time_out;
  if (contains(target, "/pause")) c.reading = Reading::pause;
  if (contains(target, "/resume")) c.reading = Reading::pause_resumed;
  if (contains(target, "/stop")) c.reading = Reading::stop;
  if (contains(target, "/noread")) c.reading = Reading::unread;
  if (contains(target, "/take")) c.take = Taking::ok200;
  if (contains(target, "/take101")) c.take = Taking::upgrade101;
  // Only a handler takes over, and only with its own response: not deferred, not streamed.
  if (c.take != Taking::none) c.deferral = Deferral::none, c.streams = false;
  return c;
}

bool stream_body(const hs::Request& q) { return !contains(q.target(), "/whole"); }

// Echoes the target and the body, numbers its calls, and misbehaves on request (see the
// markers in fuzz_handler.hpp).
void handle(const hs::Request& q, hs::Response& r) {
  World& w = *g_world;
  Run& run = *w.run;
  if (run.closing)
    violation("handler called after a response that closes the connection", q.target());
  check_request(q, w.limits);

  size_t index = run.seen.size();
  run.seen.emplace_back();
  Seen& s = run.seen.back();
  s.method.assign(q.method());
  s.target.assign(q.target());
  s.body.assign(q.body());
  s.host.assign(q.header("Host"));
  for (const hs::Header& h : q.headers())
    s.fields.append(h.name).append(": ").append(h.value).append("\n");
  s.keep_alive = q.keep_alive();
  s.minor = q.version_minor();
  s.at_head = q.body_pending();
  std::string_view target = q.target();
  s.choice = choose(w.modes, target, index, w.salt);

  if (contains(target, "/throw") || contains(target, "/panic")) {
    s.threw = s.closes = true;
    s.status = 500;
    s.choice = Choice{};
    run.closing = true;
    r.body.assign("half-written");  // must not leak out
    if (contains(target, "/throw")) throw std::runtime_error("fuzz handler: " + s.target);
    throw 42;
  }
  if (w.modes.send_in_handlers()) send_someone_elses();

  s.status = 200;
  if (contains(target, "/204")) s.status = 204;
  if (contains(target, "/304")) s.status = 304;
  if (contains(target, "/404")) s.status = 404;
  if (s.choice.take == Taking::upgrade101) s.status = 101;
  if (!s.at_head) s.choice.reading = Reading::all;
  if (s.at_head && s.choice.reading != Reading::unread && s.choice.take == Taking::none) {
    // The reader answers; whether the response closes is known once it has (stop).
    decide_closing(s, run.draining);
    run.closing = s.closes;
    r.read_body(std::make_shared<Reader>(run, index));
    return;
  }
  s.answer = s.target + "\n" + s.body;
  decide_closing(s, run.draining);
  run.closing = s.closes || s.choice.take != Taking::none;
  if (s.choice.take != Taking::none) {
    fill(r, s, run.client, index);
    if (s.status == 101) r.body.clear(), s.answer.clear();
    Run* owner = &run;
    r.take_over([owner, index](int fd, std::string_view already_read) {
      Seen& taken = owner->seen[index];
      require(fd == -1 && !taken.taken, "the taker called twice, or with a descriptor");
      taken.taken = true;
      taken.already_read.assign(already_read);
    });
    return;
  }
  answer_with(r, run, index);
}

void perform(Pending& p, const std::function<void(size_t client)>& timed_out) {
  if (p.kind != Pending::Kind::deferred) {
    if (p.call) p.call();
    return;
  }
  Seen& s = p.run->seen[p.index];
  switch (s.choice.deferral) {
    case Deferral::time_out:
      if (timed_out) timed_out(p.client);
      require(!p.handle.pending(), "a deferred response answered 504 is still pending", s.target);
      p.handle.send();  // does nothing now
      break;
    case Deferral::drop_later:
      p.handle.response().status = 299;
      p.handle = hs::Deferred();  // dropped unsent: 500
      break;
    default:
      fill(p.handle.response(), s, p.client, p.index);
      p.handle.send();
      require(!p.handle.pending(), "a deferred response sent is still pending", s.target);
      p.handle.send();  // a second send does nothing
      break;
  }
}

}  // namespace fuzz
