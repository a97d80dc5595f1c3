// Handlers and middleware: how a request becomes a response.
//
// A Handler fills in the Response for a Request. A Middleware wraps a Handler into another
// (logging, headers, routing decisions); chain() composes them once, at start-up, so serving a
// request costs one std::function call per layer and no allocation.
//
// Handlers run on the reactor's thread, one at a time, and must not block. A handler that
// throws gets the client a 500 and the connection closed; the server keeps serving.
#pragma once

#include <functional>
#include <span>
#include <string>

#include <httpserver/export.hpp>
#include <httpserver/http.hpp>
#include <httpserver/log.hpp>

namespace hs {

using Handler = std::function<void(const Request&, Response&)>;
using Middleware = std::function<Handler(Handler)>;

// Wraps `root` in `middlewares`, the first one outermost: chain({a, b}, h) runs a, then b,
// then h.
HS_API Handler chain(std::span<const Middleware> middlewares, Handler root);

// Writes "uri: <request-target>" (logrus format of `logger`) before calling the next handler,
// as the Go tutorial's logging middleware does.
HS_API Middleware logging(Logger& logger);

// The tutorial's root handler: 200, text/plain; charset=utf-8, `body` for every request.
HS_API Handler text(std::string body);

}  // namespace hs
