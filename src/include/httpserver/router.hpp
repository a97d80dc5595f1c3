// Router: picks a Handler by method and path. Itself a Handler, so it composes with
// middleware like any other: chain({logging(log)}, router).
//
//   hs::Router router;
//   router.get("/healthz", [](const hs::Request&, hs::Response& r) { r.body = "ok"; })
//         .handle("POST", "/items", add_item)
//         .prefix("/static/", serve_static);
//   hs::Server server(reactor, options, router);
//
// Exact paths win over prefixes; among prefixes the longest wins. A path that matches but not
// for this method gets 405 with an Allow field; no match gets 404 (or the fallback, if set).
// HEAD is served by the GET route when no HEAD route exists. Matching does not allocate.
//
// Routes are added before the router is handed to a server; copies share the same table.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <httpserver/export.hpp>
#include <httpserver/middleware.hpp>

namespace hs {

class HS_API Router {
 public:
  Router();

  // Serves `method` (e.g. "GET") on exactly `path` (compared without the query).
  Router& handle(std::string_view method, std::string_view path, Handler handler);
  Router& get(std::string_view path, Handler handler) { return handle("GET", path, handler); }
  Router& post(std::string_view path, Handler handler) { return handle("POST", path, handler); }
  // Serves every method on every path that starts with `prefix`.
  Router& prefix(std::string_view prefix, Handler handler);
  // Serves what matches nothing (instead of the 404).
  Router& fallback(Handler handler);

  void operator()(const Request& request, Response& response) const;

 private:
  struct Route {
    std::string method;
    Handler handler;
  };
  struct Table {
    std::map<std::string, std::vector<Route>, std::less<>> exact;
    std::vector<std::pair<std::string, Handler>> prefixes;  // longest first
    Handler fallback;
  };
  std::shared_ptr<Table> table_;
};

}  // namespace hs
