#include "config.hpp"

#include <charconv>
#include <optional>

#include "flags.hpp"
#include "token.hpp"

namespace hs {

namespace {

uint64_t parse_number(const std::string& text, size_t& used) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) throw UsageError("'" + text + "' is not a number");
  used = static_cast<size_t>(end - text.data());
  return value;
}

uint64_t scale(uint64_t value, uint64_t unit, const std::string& text) {
  if (unit != 0 && value > UINT64_MAX / unit) throw UsageError("'" + text + "' is too large");
  return value * unit;
}

uint64_t parse_range(const std::string& text, uint64_t min, uint64_t max, const char* what) {
  size_t used;
  uint64_t v = parse_number(text, used);
  if (used != text.size()) throw UsageError("'" + text + "' is not a whole number");
  if (v < min || v > max)
    throw UsageError(std::string(what) + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", not " + text);
  return v;
}

}  // namespace

ListenerOptions parse_listen(const std::string& text) {
  ListenerOptions l;
  if (text.rfind("unix:", 0) == 0) {
    if (text.size() == 5) throw UsageError("'unix:' needs a path, as in unix:/run/httpserver.sock");
    l.address = text;
    return l;
  }
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw UsageError("'" + text + "' is not HOST:PORT, [IPV6]:PORT, :PORT or unix:/PATH");
  std::string host = text.substr(0, colon);
  if (host.find(':') != std::string::npos && !(host.front() == '[' && host.back() == ']'))
    throw UsageError("'" + text + "': write an IPv6 address in brackets, as in [::1]:8080");
  l.address = host;
  l.port = static_cast<uint16_t>(parse_range(text.substr(colon + 1), 0, 65535, "port"));
  return l;
}

std::vector<ListenerOptions> inherited_listeners(const std::map<std::string, std::string>& env,
                                                 long pid) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
  };
  const std::string* for_pid = get("LISTEN_PID");
  const std::string* count = get("LISTEN_FDS");
  // Meant for another process (a parent that did not unset them) or not set: not ours.
  if (!for_pid || !count || *for_pid != std::to_string(pid)) return {};
  uint64_t n = parse_range(*count, 0, 1024, "LISTEN_FDS");
  std::vector<ListenerOptions> listeners(n);
  for (size_t i = 0; i < n; ++i) listeners[i].fd = static_cast<int>(3 + i);  // SD_LISTEN_FDS_START
  return listeners;
}

uint64_t parse_size(const std::string& text) {
  size_t used;
  uint64_t value = parse_number(text, used);
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.empty() || unit == "b") return value;
  if (unit == "k" || unit == "kb" || unit == "kib") return scale(value, 1024, text);
  if (unit == "m" || unit == "mb" || unit == "mib") return scale(value, 1024 * 1024, text);
  if (unit == "g" || unit == "gb" || unit == "gib") return scale(value, 1024 * 1024 * 1024, text);
  throw UsageError("'" + text + "' has an unknown size unit (use B, KiB, MiB or GiB)");
}

uint64_t parse_duration_ms(const std::string& text) {
  size_t used;
  uint64_t value = parse_number(text, used);
  std::string unit = text.substr(used);
  if (unit.empty() || unit == "s") return scale(value, 1000, text);
  if (unit == "ms") return value;
  if (unit == "m") return scale(value, 60'000, text);
  if (unit == "h") return scale(value, 3'600'000, text);
  throw UsageError("'" + text + "' has an unknown duration unit (use ms, s, m or h)");
}

Config parse_config(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env) {
  Config config;
  auto from_env = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  auto env_range = [&](const char* name, uint64_t min, uint64_t max) -> std::optional<uint64_t> {
    auto* v = from_env(name);
    if (!v) return std::nullopt;
    try {
      return parse_range(*v, min, max, name);
    } catch (const UsageError& e) {
      std::string what = e.what();
      if (what.rfind(name, 0) == 0) throw;  // already names the variable
      throw UsageError(std::string("invalid value for ") + name + ": " + what);
    }
  };
  if (auto port = env_range("PORT", 0, 65535))
    config.server.listen.port = static_cast<uint16_t>(*port);
  if (auto* v = from_env("LOG_FORMAT"); v && !parse_log_format(*v, config.log_format))
    throw UsageError("LOG_FORMAT must be text, json or none, not '" + *v + "'");
  if (auto workers = env_range("WORKERS", 1, 256)) config.workers = static_cast<unsigned>(*workers);

  Limits& limits = config.server.limits;
  std::vector<ListenerOptions> listens;
  bool address_flags = false;  // --port or --address
  uint32_t unix_mode = ListenerOptions{}.unix_mode;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_value = false;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto take = [&]() -> const std::string& {
      if (!has_value) {
        if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
        value = args[++i];
        has_value = true;
      }
      return value;
    };
    auto no_value = [&] {
      if (has_value) throw UsageError(flag + " takes no value");
    };
    if (flag == "-h") flag = "--help";
    // The flag table (flags.hpp) is the list of flags: --help and the man page show it.
    if (!find_flag(flag)) throw UsageError("unknown flag " + args[i]);
    try {
      if (flag == "--help") {
        no_value();
        config.mode = Config::Mode::help;
      } else if (flag == "--version") {
        no_value();
        config.mode = Config::Mode::version;
      } else if (flag == "--healthcheck") {
        no_value();
        config.mode = Config::Mode::healthcheck;
      } else if (flag == "--quiet") {
        no_value();
        config.log_format = LogFormat::none;
      } else if (flag == "--access-log") {
        no_value();
        config.server.access_log = true;
      } else if (flag == "--request-id") {
        no_value();
        config.server.echo_request_id = true;
      } else if (flag == "--port") {
        config.server.listen.port = static_cast<uint16_t>(parse_range(take(), 0, 65535, "port"));
        address_flags = true;
      } else if (flag == "--address") {
        config.server.listen.address = take();
        address_flags = true;
      } else if (flag == "--listen") {
        listens.push_back(parse_listen(take()));
      } else if (flag == "--admin-address") {
        config.admin = parse_listen(take());
      } else if (flag == "--drain-delay") {
        config.drain_delay_ms = parse_duration_ms(take());
      } else if (flag == "--unix-mode") {
        take();
        if (value.empty() || value.size() > 4 ||
            value.find_first_not_of("01234567") != std::string::npos)
          throw UsageError("'" + value + "' is not an octal mode such as 0660");
        unix_mode = static_cast<uint32_t>(std::stoul(value, nullptr, 8));
      } else if (flag == "--body") {
        config.body = take();
      } else if (flag == "--root") {
        config.root = take();
        if (value.empty()) throw UsageError("needs a directory");
      } else if (flag == "--index") {
        config.files.index = take();
        if (value.find('/') != std::string::npos) throw UsageError("must be a file name, no '/'");
      } else if (flag == "--dir-listing") {
        no_value();
        config.files.list_directories = true;
      } else if (flag == "--cache-control") {
        config.files.cache_control = take();
        for (char c : value)  // printed into responses: no CR or LF
          if (!is_field_byte(c)) throw UsageError("must be printable text");
      } else if (flag == "--precompressed") {
        no_value();
        config.files.precompressed = true;
      } else if (flag == "--server-name") {
        config.server.server_name = take();
        // Printed into every response head: a CR or LF here would be a header injection.
        for (char c : value)
          if (!is_field_byte(c) || c == '\t') throw UsageError("must be printable text");
        if (!value.empty() && (value.front() == ' ' || value.back() == ' '))
          throw UsageError("must not start or end with a space");
      } else if (flag == "--log-format") {
        if (!parse_log_format(take(), config.log_format))
          throw UsageError("must be text, json or none, not '" + value + "'");
      } else if (flag == "--workers") {
        config.workers = static_cast<unsigned>(parse_range(take(), 1, 256, "workers"));
      } else if (flag == "--max-header-bytes") {
        limits.max_header_bytes = parse_size(take());
        if (limits.max_header_bytes < 256 || limits.max_header_bytes > (64u << 20))
          throw UsageError("must be between 256B and 64MiB");
      } else if (flag == "--max-target-bytes") {
        limits.max_target_bytes = parse_size(take());
        if (limits.max_target_bytes < 16 || limits.max_target_bytes > (64u << 20))
          throw UsageError("must be between 16B and 64MiB");
      } else if (flag == "--max-body-bytes") {
        limits.max_body_bytes = parse_size(take());
        if (limits.max_body_bytes > (1ull << 31)) throw UsageError("must be at most 2GiB");
      } else if (flag == "--max-connections") {
        config.server.max_connections = parse_range(take(), 1, 10'000'000, "max-connections");
      } else if (flag == "--header-timeout") {
        limits.header_timeout_ms = parse_duration_ms(take());
      } else if (flag == "--body-timeout") {
        limits.body_timeout_ms = parse_duration_ms(take());
        if (limits.body_timeout_ms == 0) throw UsageError("must be at least 1ms");
      } else if (flag == "--max-requests-per-connection") {
        limits.max_requests_per_connection =
            parse_range(take(), 0, UINT32_MAX, "max-requests-per-connection");
      } else if (flag == "--idle-timeout") {
        limits.idle_timeout_ms = parse_duration_ms(take());
      } else if (flag == "--write-timeout") {
        limits.write_timeout_ms = parse_duration_ms(take());
      } else if (flag == "--response-timeout") {
        limits.response_timeout_ms = parse_duration_ms(take());
        if (limits.response_timeout_ms == 0) throw UsageError("must be at least 1ms");
      } else if (flag == "--shutdown-timeout") {
        config.server.shutdown_timeout_ms = parse_duration_ms(take());
      } else {
        throw std::logic_error("flags.cpp lists " + flag + " but parse_config does not parse it");
      }
    } catch (const UsageError& e) {
      std::string what = e.what();
      if (what.rfind(flag, 0) == 0 || what.rfind("unknown flag", 0) == 0) throw;
      throw UsageError("invalid value for " + flag + ": " + what);
    }
  }
  if (!listens.empty()) {
    if (address_flags) throw UsageError("--listen cannot be combined with --port or --address");
    for (auto& l : listens) l.unix_mode = unix_mode;
    config.server.listen = listens.front();
    config.server.also_listen.assign(listens.begin() + 1, listens.end());
  }
  if (config.admin) config.admin->unix_mode = unix_mode;
  bool has_unix = false;
  for (auto& l : listens) has_unix |= l.address.rfind("unix:", 0) == 0;
  if (has_unix && config.workers > 1)
    throw UsageError("--workers above 1 cannot share a unix socket (SO_REUSEPORT is TCP's): " +
                     std::string("use one worker, or TCP --listen addresses"));
  return config;
}

}  // namespace hs
