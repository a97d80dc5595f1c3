// Listener: one listening socket that hands every accepted client to a callback.
//
// Binds the address (IPv6 dual-stack "::" by default, 0.0.0.0 where the host has no IPv6;
// or a unix socket's path; or takes over a socket that is listening already), defers accept
// on a TCP socket it binds (a client is queued once its first bytes have arrived), accepts
// with accept4 until the queue is drained or a per-wakeup cap is reached, and keeps a spare
// descriptor so that running out of descriptors (EMFILE) sheds waiting clients instead of
// spinning on a listening socket that stays readable (libuv's trick).
//
// Threads: the reactor's thread only. The callback runs inside the reactor's dispatch and
// may do anything a reactor callback may do, including closing the listener.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>

#include <httpserver/options.hpp>
#include <httpserver/reactor.hpp>

#include "unique_fd.hpp"

namespace hs {

// A client as accept4 hands it over.
struct Accepted {
  UniqueFd fd;  // non-blocking, close-on-exec
  // Its address, from accept4 itself (no getpeername); AF_UNSPEC if the kernel gave none.
  sockaddr_storage peer;
  // The listener defers accept (TCP_DEFER_ACCEPT), so the client was handed over once its
  // first bytes had arrived (or, silent, after the defer period): a read at once finds them.
  bool first_bytes_in = false;
};

class Listener final : public IoHandler {
 public:
  // Receives each accepted client; may take its descriptor.
  using AcceptFn = std::function<void(Accepted& client)>;

  // Binds, listens and registers with `reactor`. Throws std::system_error naming the call
  // that failed (e.g. "bind [::]:8080: Address already in use").
  Listener(Reactor& reactor, const ListenerOptions& options, AcceptFn on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The bound port (the chosen one when options.port was 0).
  uint16_t port() const noexcept { return port_; }
  // "[::]:8080", "127.0.0.1:8080" or "unix:/run/x.sock", for messages.
  const std::string& name() const noexcept { return name_; }
  // Stops listening: unregisters and closes the socket. Idempotent.
  void close() noexcept;
  bool open() const noexcept { return static_cast<bool>(fd_); }
  // Whether the socket defers accept (TCP_DEFER_ACCEPT): set on a TCP socket we bound when
  // options.defer_accept says so, or found on one handed over.
  bool defers_accept() const noexcept { return defers_accept_; }
  // Clients accepted and closed at once because the process was out of descriptors.
  uint64_t shed() const noexcept { return shed_; }

  void on_io(uint32_t events) noexcept override;

 private:
  void adopt(int fd);
  void bind_unix(const ListenerOptions& options);
  void bind_tcp(const ListenerOptions& options);
  void shed_waiting_clients() noexcept;

  Reactor& reactor_;
  AcceptFn on_accept_;
  UniqueFd fd_;
  UniqueFd spare_;  // given up on EMFILE to accept and close one waiting client
  // A unix socket's file we created, removed on close() if it is still the one we made.
  std::string unix_path_;
  uint64_t unix_dev_ = 0, unix_ino_ = 0;
  uint16_t port_ = 0;
  std::string name_;
  uint64_t shed_ = 0;
  bool defers_accept_ = false;
};

}  // namespace hs
