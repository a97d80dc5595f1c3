#include <httpserver/middleware.hpp>

namespace hs {

Handler chain(std::span<const Middleware> middlewares, Handler root) {
  Handler handler = std::move(root);
  for (auto it = middlewares.rbegin(); it != middlewares.rend(); ++it) handler = (*it)(handler);
  return handler;
}

Middleware logging(Logger& logger) {
  return [&logger](Handler next) -> Handler {
    return [&logger, uri = Logger::Prefix("uri: "), next = std::move(next)](const Request& request,
                                                                            Response& response) {
      logger.info(uri, request.target());
      next(request, response);
    };
  };
}

Handler text(std::string body) {
  return [body = std::move(body)](const Request&, Response& response) {
    response.status = 200;
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body.assign(body);
  };
}

}  // namespace hs
