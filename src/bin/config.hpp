// Config: the httpserver binary's settings, read from its flags and environment.
//
// The flags themselves, with their defaults and descriptions, are listed in flags.cpp.
// Flags win over the environment; the environment wins over the defaults. Each flag takes
// "--name value" or "--name=value". Sizes take an optional unit (8KiB, 1MiB, 512k, 2m;
// plain bytes otherwise) and durations one of ms, s, m, h (a bare number is seconds).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <httpserver/files.hpp>
#include <httpserver/log.hpp>
#include <httpserver/server.hpp>

namespace hs {

// A bad flag or value; what() says which and why. main prints it with the usage, exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  enum class Mode { serve, healthcheck, help, version };
  Mode mode = Mode::serve;
  ServerOptions server;  // listen address and port, limits, timeouts
  std::string body = "package main #14";
  LogFormat log_format = LogFormat::text;
  unsigned workers = 1;
  // --admin-address: /livez, /readyz and /metrics on a listener of their own; none if unset.
  std::optional<ListenerOptions> admin;
  // --drain-delay: from SIGTERM to the start of the graceful shutdown, /readyz says 503 and
  // requests are served as before, so a load balancer has time to stop sending.
  uint64_t drain_delay_ms = 0;
  // --root: serve this directory for every path (hs::files) instead of the --body text.
  std::string root;
  FileOptions files;  // --index, --dir-listing, --cache-control, --precompressed
};

// Parses argv (without argv[0]) with `env` (name -> value; only PORT, LOG_FORMAT and
// WORKERS are read). Throws UsageError.
Config parse_config(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env);

// One --listen value: HOST:PORT, [IPV6]:PORT, :PORT or unix:/PATH. Throws UsageError.
ListenerOptions parse_listen(const std::string& text);

// systemd socket activation (sd_listen_fds(3), without libsystemd): when LISTEN_PID is `pid`,
// LISTEN_FDS descriptors from 3 on are listening sockets to serve, in order. Empty when the
// variables are absent or meant for another process. Throws UsageError on a bad LISTEN_FDS.
std::vector<ListenerOptions> inherited_listeners(const std::map<std::string, std::string>& env,
                                                 long pid);

uint64_t parse_size(const std::string& text);         // throws UsageError
uint64_t parse_duration_ms(const std::string& text);  // throws UsageError

}  // namespace hs
