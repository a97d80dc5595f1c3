// Admin: the operator's listener, apart from the application's (the tutorial's catch-all
// handler keeps every path of its own port). The httpserver binary starts one with
// --admin-address; it serves
//   /livez    200 while the loop turns
//   /readyz   200, or 503 once draining has begun (SIGTERM: the load balancer stops sending)
//   /metrics  Prometheus text exposition format 0.0.4, gathered from every worker
// and anything else 404. It runs on the first worker's reactor; the other workers' figures are
// fetched on their own threads (Reactor::post) and come back the same way, so nothing is read
// across threads and counting stays a plain increment.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/options.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>

namespace hs {

// What one worker reports for /metrics.
struct WorkerFigures {
  ServerStats server;
  uint64_t log_lines = 0;
  uint64_t log_dropped = 0;
};

// A worker as the admin listener sees it: the reactor it runs on, and what to read there.
struct WorkerView {
  Reactor* reactor;
  const Server* server;
  const Logger* logger;
};

// The exposition text for the figures of every worker, summed. `ready` is /readyz's state.
std::string prometheus_text(const std::vector<WorkerFigures>& workers, bool ready);

class Admin {
 public:
  // Binds `listen` on workers.front()'s reactor. Throws std::system_error.
  Admin(ListenerOptions listen, std::vector<WorkerView> workers);
  ~Admin();

  // /readyz answers 503 from now on.
  void set_draining() noexcept { draining_ = true; }
  bool draining() const noexcept { return draining_; }
  Server& server() noexcept { return *server_; }

 private:
  struct Gather;
  void metrics(Response& response);

  std::vector<WorkerView> workers_;
  bool draining_ = false;
  std::unique_ptr<Server> server_;
};

}  // namespace hs
