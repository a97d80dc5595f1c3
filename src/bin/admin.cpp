#include "admin.hpp"

#include <llhttp.h>

#include <functional>
#include <utility>

#include <httpserver/router.hpp>
#include <httpserver/version.hpp>

namespace hs {

namespace {

// A worker that does not answer within this (its loop has stopped: shutdown) is left out.
constexpr uint64_t kGatherTimeoutMs = 1000;

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const char* name, uint64_t value, const char* labels = nullptr) {
  out += name;
  if (labels) out += labels;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void counter(std::string& out, const char* name, const char* help, uint64_t value) {
  family(out, name, "counter", help);
  sample(out, name, value);
}

void gauge(std::string& out, const char* name, const char* help, uint64_t value) {
  family(out, name, "gauge", help);
  sample(out, name, value);
}

void add(TrafficStats& sum, const TrafficStats& t) {
  for (size_t m = 0; m < TrafficStats::kMethods; ++m)
    for (size_t c = 0; c < TrafficStats::kStatusClasses; ++c)
      sum.responses[m][c] += t.responses[m][c];
  for (size_t i = 0; i < TrafficStats::kDurationBuckets; ++i)
    sum.duration_buckets[i] += t.duration_buckets[i];
  sum.duration_count += t.duration_count;
  sum.duration_sum_ns += t.duration_sum_ns;
  sum.bytes_read += t.bytes_read;
  sum.bytes_written += t.bytes_written;
  sum.timeouts.header += t.timeouts.header;
  sum.timeouts.body += t.timeouts.body;
  sum.timeouts.idle += t.timeouts.idle;
  sum.timeouts.write += t.timeouts.write;
  sum.timeouts.linger += t.timeouts.linger;
  sum.timeouts.response += t.timeouts.response;
}

// Seconds with the nanoseconds' nine digits: exact, where a double would round.
std::string seconds(uint64_t ns) {
  std::string fraction = std::to_string(ns % 1'000'000'000 + 1'000'000'000).substr(1);
  return std::to_string(ns / 1'000'000'000) + "." + fraction;
}

void traffic(std::string& out, const TrafficStats& t) {
  static constexpr const char* kMethodNames[TrafficStats::kMethods] = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "other"};
  family(out, "httpserver_responses_total", "counter",
         "Responses written, by request method and status class; the server's own errors "
         "(400, 408, 413, 431, ...) included, refused connections' 503 not.");
  for (size_t m = 0; m < TrafficStats::kMethods; ++m) {
    for (size_t c = 0; c < TrafficStats::kStatusClasses; ++c) {
      std::string labels = std::string("{method=\"") + kMethodNames[m] + "\",code=\"" +
                           std::to_string(c + 1) + "xx\"}";
      sample(out, "httpserver_responses_total", t.responses[m][c], labels.c_str());
    }
  }
  family(out, "httpserver_request_duration_seconds", "histogram",
         "From the read that completed a request to the send that took the last byte of its "
         "response (empty unless the server times requests: --admin-address).");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < TrafficStats::kDurationBuckets; ++i) {
    cumulative += t.duration_buckets[i];
    std::string le = i < std::size(TrafficStats::kDurationBoundsUs)
                         ? seconds(TrafficStats::kDurationBoundsUs[i] * 1000)
                         : std::string("+Inf");
    // Trailing zeros dropped ("0.0001", "1"), as Prometheus's own clients print bounds.
    if (le != "+Inf") {
      le.erase(le.find_last_not_of('0') + 1);
      if (le.back() == '.') le.pop_back();
    }
    std::string labels = "{le=\"" + le + "\"}";
    sample(out, "httpserver_request_duration_seconds_bucket", cumulative, labels.c_str());
  }
  out += "httpserver_request_duration_seconds_sum " + seconds(t.duration_sum_ns) + "\n";
  sample(out, "httpserver_request_duration_seconds_count", t.duration_count);
  counter(out, "httpserver_received_bytes_total", "Bytes read from client connections.",
          t.bytes_read);
  counter(out, "httpserver_sent_bytes_total", "Bytes written to client connections.",
          t.bytes_written);
  family(out, "httpserver_timeouts_total", "counter",
         "Deadlines that passed, by kind: header, body, idle, write, linger (each closes "
         "its connection), response (a deferred response answered 504).");
  const std::pair<const char*, uint64_t> kinds[] = {
      {"header", t.timeouts.header}, {"body", t.timeouts.body},
      {"idle", t.timeouts.idle},     {"write", t.timeouts.write},
      {"linger", t.timeouts.linger}, {"response", t.timeouts.response}};
  for (auto [kind, n] : kinds) {
    std::string labels = std::string("{kind=\"") + kind + "\"}";
    sample(out, "httpserver_timeouts_total", n, labels.c_str());
  }
}

void text(Response& response, int status, const char* body) {
  response.status = status;
  response.set_header("Content-Type", "text/plain; charset=utf-8");
  response.body = body;
}

}  // namespace

std::string prometheus_text(const std::vector<WorkerFigures>& workers, bool ready) {
  WorkerFigures sum;
  for (const WorkerFigures& w : workers) {
    sum.server.accepted += w.server.accepted;
    sum.server.requests += w.server.requests;
    sum.server.client_errors += w.server.client_errors;
    sum.server.handler_errors += w.server.handler_errors;
    sum.server.timeouts += w.server.timeouts;
    sum.server.taken_over += w.server.taken_over;
    add(sum.server.traffic, w.server.traffic);
    sum.server.refused += w.server.refused;
    sum.server.shed += w.server.shed;
    sum.server.connections += w.server.connections;
    sum.log_lines += w.log_lines;
    sum.log_dropped += w.log_dropped;
  }
  std::string out;
  family(out, "httpserver_build_info", "gauge", "The running build: its version and llhttp's.");
  out += "httpserver_build_info{version=\"";
  out += version();
  out += "\",llhttp=\"" + std::to_string(LLHTTP_VERSION_MAJOR) + "." +
         std::to_string(LLHTTP_VERSION_MINOR) + "." + std::to_string(LLHTTP_VERSION_PATCH) +
         "\"} 1\n";
  gauge(out, "httpserver_ready", "1 while /readyz answers 200, 0 once draining has begun.",
        ready ? 1 : 0);
  gauge(out, "httpserver_workers", "Reactor threads whose figures are summed here.",
        workers.size());
  gauge(out, "httpserver_connections_open", "Client connections open now.", sum.server.connections);
  counter(out, "httpserver_connections_accepted_total", "Client connections accepted.",
          sum.server.accepted);
  counter(out, "httpserver_connections_refused_total",
          "Connections answered 503 and closed at once: over --max-connections.",
          sum.server.refused);
  counter(out, "httpserver_connections_shed_total",
          "Connections accepted and closed unanswered while out of file descriptors.",
          sum.server.shed);
  counter(out, "httpserver_connections_taken_over_total",
          "Connections handed to a handler's protocol (Response::take_over).",
          sum.server.taken_over);
  counter(out, "httpserver_requests_total", "Requests whose head was complete.",
          sum.server.requests);
  counter(out, "httpserver_client_errors_total",
          "Error responses (4xx) the server sent itself, for malformed or oversized requests.",
          sum.server.client_errors);
  counter(out, "httpserver_handler_errors_total", "Handlers that failed (answered 500).",
          sum.server.handler_errors);
  traffic(out, sum.server.traffic);
  counter(out, "httpserver_log_lines_total", "Log lines written or queued.", sum.log_lines);
  counter(out, "httpserver_log_lines_dropped_total",
          "Log lines dropped because the log's reader did not keep up.", sum.log_dropped);
  return out;
}

// One /metrics request: the figures of every worker, as they arrive on the admin's thread.
struct Admin::Gather {
  std::vector<WorkerFigures> figures;
  size_t left = 0;
  bool asked = false;
  bool collecting = false;  // inside the producer's first call: no wake-up needed
  std::function<void()> wake;
  Reactor::TimerId timer = 0;
};

Admin::Admin(ListenerOptions listen, std::vector<WorkerView> workers)
    : workers_(std::move(workers)) {
  Router router;
  router.get("/livez", [](const Request&, Response& r) { text(r, 200, "ok\n"); })
      .get("/readyz",
           [this](const Request&, Response& r) {
             if (draining_) return text(r, 503, "draining\n");
             text(r, 200, "ready\n");
           })
      .get("/metrics", [this](const Request&, Response& r) { metrics(r); });
  ServerOptions options;
  options.listen = std::move(listen);
  // A probe is read on the wakeup after its accept, not served in the same one: a SIGTERM that
  // came before it, whose signalfd event may follow the listener's in that wakeup's batch,
  // has then turned /readyz to 503. Probes are few; a wakeup more costs them nothing.
  options.listen.defer_accept = false;
  options.max_connections = 64;  // probes and a scraper, not clients
  options.shutdown_timeout_ms = 1000;
  server_ = std::make_unique<Server>(*workers_.front().reactor, options, router);
}

Admin::~Admin() = default;

void Admin::metrics(Response& response) {
  response.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  auto gather = std::make_shared<Gather>();
  gather->figures.resize(workers_.size());
  gather->left = workers_.size();
  Reactor* home = workers_.front().reactor;
  bool ready = !draining_;
  response.stream([this, gather, home, ready](BodyWriter& out) {
    if (!gather->asked) {
      gather->asked = true;
      gather->wake = out.waker();
      auto arrived = [gather](size_t i, const WorkerFigures& f) {
        if (gather->left == 0) return;  // too late: the answer went without it
        gather->figures[i] = f;
        if (--gather->left == 0 && !gather->collecting) gather->wake();
      };
      gather->collecting = true;
      for (size_t i = 0; i < workers_.size(); ++i) {
        WorkerView w = workers_[i];
        auto read = [w] {
          return WorkerFigures{w.server->stats(), w.logger->lines(), w.logger->dropped()};
        };
        if (w.reactor == home) {
          arrived(i, read());
        } else {
          w.reactor->post([read, arrived, home, i] {
            home->post([arrived, i, f = read()] { arrived(i, f); });
          });
        }
      }
      gather->collecting = false;
      if (gather->left > 0) {
        gather->timer = home->add_timer(kGatherTimeoutMs, 0, [gather] {
          gather->timer = 0;
          if (gather->left == 0) return;
          gather->left = 0;
          gather->wake();
        });
        return;
      }
    }
    if (gather->left > 0) return;
    if (gather->timer) home->cancel_timer(std::exchange(gather->timer, 0));
    out.write(prometheus_text(gather->figures, ready));
    out.end();
  });
}

}  // namespace hs
