#include <algorithm>

#include <httpserver/router.hpp>

namespace hs {

namespace {

void plain(Response& response, int status, std::string_view body) {
  response.status = status;
  response.set_header("Content-Type", "text/plain; charset=utf-8");
  response.body.assign(body);
}

}  // namespace

Router::Router() : table_(std::make_shared<Table>()) {}

Router& Router::handle(std::string_view method, std::string_view path, Handler handler) {
  auto& routes = table_->exact[std::string(path)];
  routes.push_back({std::string(method), std::move(handler)});
  return *this;
}

Router& Router::prefix(std::string_view prefix, Handler handler) {
  auto& prefixes = table_->prefixes;
  prefixes.emplace_back(std::string(prefix), std::move(handler));
  std::stable_sort(prefixes.begin(), prefixes.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return *this;
}

Router& Router::fallback(Handler handler) {
  table_->fallback = std::move(handler);
  return *this;
}

void Router::operator()(const Request& request, Response& response) const {
  const Table& t = *table_;
  std::string_view path = request.path();
  if (auto it = t.exact.find(path); it != t.exact.end()) {
    const Handler* get = nullptr;
    for (const Route& route : it->second) {
      if (route.method == request.method()) return route.handler(request, response);
      if (route.method == "GET") get = &route.handler;
    }
    if (get != nullptr && request.method() == "HEAD") return (*get)(request, response);
    // RFC 9110 section 15.5.6: a 405 lists the methods the resource has.
    std::string allow;
    for (const Route& route : it->second) {
      if (!allow.empty()) allow.append(", ");
      allow.append(route.method);
    }
    if (get != nullptr) allow.append(", HEAD");
    response.set_header("Allow", allow);
    return plain(response, 405, "405 Method Not Allowed\n");
  }
  for (const auto& [prefix, handler] : t.prefixes)
    if (path.substr(0, prefix.size()) == prefix) return handler(request, response);
  if (t.fallback) return t.fallback(request, response);
  plain(response, 404, "404 Not Found\n");
}

}  // namespace hs
