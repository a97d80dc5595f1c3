// The connection fuzzer's handler: what it does with each request, and what it remembers
// doing, so that the output can be checked against it.
//
// Each request is echoed (its target, then its body; or, for a body read as it arrives, the
// body's length and checksum) and numbered (X-Seq, per connection). How it is answered is a
// Choice, made from the target's markers and, where the input's mode byte allows, from a hash
// of the request's index: the same for a request in every run of one input, so that runs
// that split the input differently must still agree.
//
// Markers in the target (any run), and what they choose:
//   /throw /panic       the handler throws (500, close)
//   /close              asks "Connection: close"
//   /204 /304 /404      that status
//   /reserved           sets the fields the server owns (ignored)
//   /stream             the body is streamed (Response::stream), /idle: its producer idles
//                       until the driver calls its waker
//   /shared             the body lies elsewhere (Response::send_shared)
//   /defer              the response is deferred and sent later by the driver; /now: sent
//                       inside the handler; /drop: the handle is dropped later (500);
//                       /dropnow: dropped inside the handler (500); /late: the response
//                       times out (504) and the handle's send does nothing
//   /take /take101      the connection is taken over (Response::take_over), with 200 or 101
// With mode bit 0 (bodies read as they arrive) only, for a request with a body:
//   /whole              the body is read whole first after all
//   /pause              the BodyReader pauses, and the driver resumes it later
//   /resume             it pauses and resumes itself before data() returns
//   /stop               it says stop after a few bytes
//   /noread             the handler answers at the head without reading the body (close)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <httpserver/http.hpp>
#include <httpserver/options.hpp>

namespace fuzz {

// The input's second byte: which ways of answering are in play besides the markers.
struct Modes {
  uint8_t bits = 0;
  bool stream_bodies() const { return bits & 0x01; }     // stream_body: bodies as they arrive
  bool stream_responses() const { return bits & 0x02; }  // streamed bodies, bodies elsewhere
  bool defer() const { return bits & 0x04; }             // deferred responses
  bool readers_vary() const { return bits & 0x08; }      // readers pause, stop, or do not read
  bool small_output() const { return bits & 0x10; }      // a 64-byte output high-water mark
  bool twins() const { return bits & 0x20; }             // the split run has two connections
  bool send_in_handlers() const { return bits & 0x40; }  // handlers send others' deferreds
  bool take_over() const { return bits & 0x80; }         // some requests take over
};

enum class Reading : uint8_t { all, pause, pause_resumed, stop, unread };
enum class Deferral : uint8_t { none, later, now, drop_now, drop_later, time_out };
enum class Taking : uint8_t { none, ok200, upgrade101 };

struct Choice {
  Reading reading = Reading::all;
  size_t stop_at = 0;       // Reading::stop: after this many bytes
  uint32_t pause_bits = 0;  // which data() calls pause (bit i: the i-th, modulo 32)
  bool streams = false;
  bool elsewhere = false;  // send_shared
  size_t piece = 1;        // the producer's largest write
  uint32_t idle_bits = 0;  // which producer calls write nothing and wait for the waker
  bool self_wake = false;  // an idle producer calls its own waker at once
  Deferral deferral = Deferral::none;
  Taking take = Taking::none;
};

Choice choose(Modes modes, std::string_view target, size_t index, uint32_t salt);

// What the handler saw and did, per call.
struct Seen {
  std::string method, target, host;
  std::string body;    // as the handler (or its BodyReader, piece by piece) got it
  std::string fields;  // every field as the handler saw it: "name: value\n" in order
  bool keep_alive = false;
  int minor = 1;
  int status = 200;
  bool threw = false;
  bool closes = false;  // the response must say "Connection: close"
  bool keep_alive_10 = false;
  Choice choice;
  bool at_head = false;         // ran at the head: the body was read as it arrived, or not
  bool reader_stopped = false;  // its BodyReader said stop
  bool ended = false;           // its BodyReader's end() ran
  int aborted = -1;             // its BodyReader's abort(status), -1 when none
  std::string answer;           // the body the response carries
  bool taken = false;           // the taker ran
  std::string already_read;     // what the taker was handed
};

// One connection's handler calls.
struct Run {
  std::vector<Seen> seen;
  size_t client = 0;
  bool draining = false;
  bool closing = false;  // a response that closes has been produced: no handler call may follow
};

// Something the driver does between input pieces: send (or drop, or time out) a deferred
// response, resume a paused BodyReader, call an idle producer's waker.
struct Pending {
  enum class Kind : uint8_t { deferred, resume, wake };
  Kind kind = Kind::resume;
  size_t client = 0;
  Run* run = nullptr;  // Kind::deferred: whose request, and which
  size_t index = 0;
  hs::Deferred handle;
  std::function<void()> call;  // the resumer or the waker
};

// What the handler shares with the driver of one run.
struct World {
  Modes modes;
  uint32_t salt = 0;
  hs::Limits limits;
  std::vector<Pending> pending;
  uint32_t rng = 1;
  Run* run = nullptr;  // the connection whose driver is being called

  uint32_t next_random() {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
  }
};

extern World* g_world;

// ExchangeSettings::handler and ::stream_body for the fuzzer.
void handle(const hs::Request& q, hs::Response& r);
bool stream_body(const hs::Request& q);

// Carries out a Pending (its `handle` or `call`); `timed_out` answers a Deferral::time_out
// for the server (the exchange of that connection, whose deferred_timed_out() it calls).
void perform(Pending& p, const std::function<void(size_t client)>& timed_out);

}  // namespace fuzz
