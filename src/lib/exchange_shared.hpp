// What the request loops (Exchange) of one server share, split by owner and lifetime:
//   ExchangeSettings  the server's options, read-only once it serves
//   ExchangeWorker    one reactor's pools, caches and counters, changed by every request
//   ExchangeScratch   the request being answered and its response: one at a time per reactor,
//                     reused, so that a warm server allocates nothing per request
// The responder reads all three; nothing here knows sockets.
//
// Threads: the reactor's thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <httpserver/http.hpp>
#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/options.hpp>
#include <httpserver/reactor.hpp>

#include "buffer_pool.hpp"
#include "date_cache.hpp"
#include "output_tail.hpp"
#include "request_codec.hpp"
#include "request_id.hpp"
#include "serialize.hpp"
#include "traffic.hpp"

namespace hs {

struct ExchangeSettings {
  Limits limits;
  Handler handler;
  std::function<bool(const Request&)> stream_body;  // ServerOptions::stream_body
  Logger* error_log = nullptr;  // handler exceptions are reported here; may be null
  std::string server_name;
  bool time_requests = false;    // ServerOptions::time_requests (or access_log)
  Logger* access_log = nullptr;  // ServerOptions::access_log: its lines go here
  bool echo_request_id = false;  // ServerOptions::echo_request_id
};

struct ExchangeWorker {
  ExchangeWorker(Reactor& reactor, const Limits& limits);

  Reactor& reactor;  // its clock, read once per loop iteration
  BufferPool pool;
  DateCache date;
  CodecRules codec_rules;  // the limits as the request codecs apply them, and the Host memo
  // Codecs not in use. An exchange holds one only while it holds a read buffer, so an idle
  // connection costs no parser state; nor does a warm server allocate one per request.
  std::vector<std::unique_ptr<RequestCodec>> free_codecs;
  // Request timers not in use (settings.time_requests), held with the read buffers.
  std::vector<std::unique_ptr<ResponseTimer>> free_timers;
  // Tails not in use (bodies sent from where they lie): no allocation per file response.
  std::vector<std::unique_ptr<OutputTail>> free_tails;
  ConnectionStats stats;
  std::unique_ptr<RequestIds> ids;  // when requests get ids (access log, echo_request_id)
  bool draining = false;            // every response says "Connection: close"
};

struct ExchangeScratch {
  Request request;              // filled for each request in turn
  Response response;            // reused: its strings keep their capacity
  std::vector<Header> headers;  // the views handed to the handler; grows with the largest head
  size_t answer_from = 0;       // where in its output the response being answered begins
  // The request being answered is its connection's last (Limits::max_requests_per_connection):
  // its response says "Connection: close".
  bool last_request = false;
};

struct ExchangeShared {
  ExchangeShared(Reactor& reactor, const Limits& limits, Handler handler, Logger* error_log,
                 std::string server_name);

  ExchangeSettings settings;
  ExchangeWorker worker;
  ExchangeScratch scratch;
};

}  // namespace hs
