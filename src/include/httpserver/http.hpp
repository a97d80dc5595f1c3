// HTTP message types: Request (what a handler reads) and Response (what it fills in), the
// readers and writers of bodies that arrive or leave in pieces, the status texts.
//
// A Request is a set of views. Method, target, header names and values and the body point into
// the connection's buffers and stay valid until the handler returns; copy what must live
// longer. A Response is reused from request to request: clear() keeps the capacity of its
// strings, so a warm server fills it without allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <httpserver/export.hpp>

namespace hs {

struct Header {
  std::string_view name;
  std::string_view value;  // optional whitespace around it removed
};

// Case-insensitive ASCII comparison, as field names and tokens are compared. Inline: the
// size check alone settles most comparisons on the hot path.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

class HS_API Request {
 public:
  std::string_view method() const noexcept { return method_; }
  // The request-target exactly as the client sent it: "/a/b?x=1", "*" or "http://h/p".
  std::string_view target() const noexcept { return target_; }
  // The path of the target, without the query ("/a/b"; the path part of an absolute form).
  // Found in the target when asked for, as the query is: most handlers never ask.
  std::string_view path() const noexcept;
  // The query without the '?', empty when there is none.
  std::string_view query() const noexcept;
  int version_major() const noexcept { return version_major_; }
  int version_minor() const noexcept { return version_minor_; }
  std::span<const Header> headers() const noexcept { return {headers_, header_count_}; }
  // The first value of the named field, or an empty view when absent.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
  // The whole body: Content-Length bytes, or the decoded chunks of a chunked body. Empty when
  // the body is still to come (body_pending()).
  std::string_view body() const noexcept { return body_; }
  // The body has not been read: this handler runs as soon as the head has arrived
  // (ServerOptions::stream_body chose so), and reads the body with Response::read_body() or
  // answers without it.
  bool body_pending() const noexcept { return body_pending_; }
  // Whether the connection stays open after this request (version and Connection field).
  bool keep_alive() const noexcept { return keep_alive_; }
  // The request's id when the server gives requests one (ServerOptions::access_log or
  // echo_request_id), else empty: its X-Request-Id when that is 1 to 128 bytes of printable
  // ASCII, else one the server made up (32 hex digits, unique across workers and restarts).
  // Valid until the handler returns, as the other views.
  std::string_view request_id() const noexcept { return request_id_; }

 private:
  friend struct RequestAccess;  // the server fills it in (src/lib/message_access.hpp)

  std::string_view method_, target_, body_, request_id_;
  const Header* headers_ = nullptr;
  size_t header_count_ = 0;
  int version_major_ = 1, version_minor_ = 1;
  bool keep_alive_ = true;
  bool body_pending_ = false;
};

// What a streaming producer writes through; see Response::stream(). The connection
// implements it. Only for the reactor's thread.
class HS_API BodyWriter {
 public:
  // Sends `data` as one more piece of the body (a chunk on HTTP/1.1). Empty data is ignored.
  virtual void write(std::string_view data) = 0;
  // Ends the body. Nothing may be written after it.
  virtual void end() = 0;
  // False once the client is this far behind (the connection's output high-water mark):
  // return and wait to be called again, rather than buffer without bound.
  virtual bool ready() const = 0;
  // A function that makes the connection call the producer again; for a producer that
  // returned because it had nothing to write yet. Call it on the reactor's thread (from
  // another thread, through Reactor::post). Harmless once the connection has closed.
  virtual std::function<void()> waker() = 0;

 protected:
  ~BodyWriter() = default;
};

// Produces a streamed body: called when the head has been sent and again each time the
// client has taken the output, until it calls BodyWriter::end().
using BodyProducer = std::function<void(BodyWriter&)>;

// Takes a connection over from the server; see Response::take_over(). `fd` is the taker's
// from the call on: non-blocking, close-on-exec, registered with no reactor, to be closed by
// the taker. `already_read` is what the client sent past the request that the server had
// already read (the first bytes of the new protocol); it is valid during the call only.
using TakeOver = std::function<void(int fd, std::string_view already_read)>;

class Response;

// Reads a request body as it arrives, for a handler that asked for it (Response::read_body())
// and runs before its body (ServerOptions::stream_body). So an upload of any size goes through
// in the memory of one read buffer, at the pace the reader sets. Called on the reactor's thread,
// one call at a time.
class HS_API BodyReader {
 public:
  enum class Next : uint8_t {
    more,   // go on
    pause,  // no data() until resume(): the server stops reading the connection, and TCP flow
            // control holds the client back (no deadline runs meanwhile)
    stop,   // the reader wants no more of the body: end() is called now, and the connection
            // closes after that response (the rest of the body is discarded, not read as HTTP)
  };

  virtual ~BodyReader() = default;
  // The next piece of the body, chunked framing removed; valid during the call only. Pieces
  // are what each read brought, at most a read buffer's worth.
  virtual Next data(std::string_view piece) = 0;
  // The body is complete (or the reader said stop): fill in the response, as a handler does.
  // It may stream its body; it may not take the connection over. A throw answers 500.
  virtual void end(Response& response) = 0;
  // The body will not be complete, and nothing more is called: `status` is what the server
  // answers (400 or 413 for broken chunked framing, 408 for a client too slow, 500 when data()
  // threw), or 0 when the client is gone or the server is shutting down.
  virtual void abort(int status) noexcept { (void)status; }

  // Continues a paused body. On the reactor's thread; resumer() is the same as a function to
  // call later, or from another thread through Reactor::post, after this reader is gone (then
  // it does nothing). Harmless when the body is not paused.
  void resume() const {
    if (resume_) resume_();
  }
  std::function<void()> resumer() const { return resume_; }

 private:
  friend struct ResponseAccess;  // the server sets resume_ before the first data()
  std::function<void()> resume_;
};

// An open read-only descriptor that responses send from (Response::send_file), closed when
// the last owner lets it go. Shared, so that a cache of open files can hand the same one to
// every response without opening it again.
class HS_API OpenFile {
 public:
  explicit OpenFile(int fd) noexcept : fd_(fd) {}  // takes ownership of `fd`
  // A file in memory holding a copy of `bytes` (a sealed memfd): for a large body that lies in
  // memory for the server's life and that many responses send. send_file() then passes its
  // pages to the socket with sendfile, where send_shared() has the kernel copy them from
  // user memory for every response (bench/load's large-64k and large-1m compare the two).
  // Throws std::system_error when the kernel refuses.
  static std::shared_ptr<const OpenFile> in_memory(std::string_view bytes);
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

struct ResponseContext;
struct DeferredState;
class Response;

// A response that a handler answers later: Response::defer() in the handler, which then
// returns; fill response() as a handler fills its own (status, fields, body, stream(),
// send_file()) and call send(). The request's connection waits meanwhile, and requests
// pipelined behind it wait in turn, so responses still leave in request order.
//
// send() and the destructor run on the reactor's thread: from another thread, move the handle
// into a function given to Reactor::post. A handle destroyed unsent answers 500. A deferred
// response not sent within Limits::response_timeout_ms is answered 504 by the server; after
// that, or once the client has gone, pending() is false and send() does nothing.
class HS_API Deferred {
 public:
  Deferred() noexcept = default;
  Deferred(Deferred&& other) noexcept = default;
  Deferred& operator=(Deferred&& other) noexcept;
  ~Deferred();

  // The response to fill; valid while this handle holds a deferred response.
  Response& response() noexcept;
  // Sends response() now (or as soon as the responses ahead of it are out).
  void send() noexcept;
  // Whether the server still waits for this response: false once sent, answered by the
  // server (timeout) or once the connection is gone.
  bool pending() const noexcept;

 private:
  friend class Response;
  explicit Deferred(std::shared_ptr<DeferredState> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<DeferredState> state_;
};

class HS_API Response {
 public:
  int status = 200;
  std::string body;

  // Streams the body instead of sending `body`: chunked on HTTP/1.1, delimited by closing the
  // connection on HTTP/1.0. Requests pipelined behind this one wait until the stream ends.
  void stream(BodyProducer producer) {
    producer_ = std::move(producer);
    extras_ = true;
  }
  bool streaming() const noexcept { return extras_ && producer_; }
  // Hands the connection to `take` once this response has been sent, and forgets it: no
  // deadline, no close, nothing more read or written by the server (a WebSocket library
  // answers 101 Switching Protocols with the Upgrade field it sets, then speaks its protocol).
  // A 101 says "Connection: Upgrade"; no response that hands over says "Connection: close".
  // A streamed body set as well is not sent. If the client is gone before the response is
  // sent, `take` is not called. If it throws, the descriptor is closed.
  void take_over(TakeOver take) {
    take_over_ = std::move(take);
    extras_ = true;
  }
  bool taking_over() const noexcept { return extras_ && take_over_; }
  // Reads the body of a request that is still to come (Request::body_pending()) through
  // `reader`, which answers once it is complete (BodyReader::end()); what the handler set here
  // besides is discarded. A 100 Continue the client waits for is sent now. A handler that runs
  // before its body and does not call this answers without it: no 100 Continue, and the
  // connection closes after the response.
  void read_body(std::shared_ptr<BodyReader> reader) {
    reader_ = std::move(reader);
    extras_ = true;
  }
  bool reads_body() const noexcept { return extras_ && reader_; }

  // The body is `length` bytes of `file` from `offset`, sent with sendfile(2) straight from the
  // page cache after the head (never copied into the output buffer); Content-Length is
  // `length`. `file` stays open until the body is sent or the connection closes. A file that
  // ends before `offset + length` closes the connection: the client sees a short body, never
  // padding. A response without a body (HEAD, 304, ...) sends the head only. Requests
  // pipelined behind it wait until the body is out. Replaces `body`.
  void send_file(std::shared_ptr<const OpenFile> file, uint64_t offset, uint64_t length) noexcept {
    file_ = std::move(file);
    extras_ = true;
    file_offset_ = offset;
    extern_length_ = length;
    shared_body_.reset();
  }
  bool sends_file() const noexcept { return static_cast<bool>(file_); }
  // The body is `shared`, sent from where it lies (written together with the head, never
  // copied into the output buffer): for a large body that many responses send, such as a
  // file read into memory once. Kept alive until it is sent. Replaces `body`.
  void send_shared(std::shared_ptr<const std::string> shared) noexcept {
    extern_length_ = shared ? shared->size() : 0;
    shared_body_ = std::move(shared);
    extras_ = true;
    file_.reset();
  }
  // Whether the body lies elsewhere (send_file, send_shared) rather than in `body`, and its
  // length.
  bool body_elsewhere() const noexcept { return extras_ && (file_ || shared_body_); }
  uint64_t content_length() const noexcept {
    return body_elsewhere() ? extern_length_ : body.size();
  }
  // Whether anything but status, fields and `body` was set (a stream, a reader, a take-over, a
  // body elsewhere, a deferral): one test on the path of the responses that set none.
  bool has_extras() const noexcept { return extras_; }

  // Answers later: returns the handle through which the response is sent once ready (see
  // Deferred). What the handler set on this Response is discarded. In a handler only.
  Deferred defer();
  bool deferred() const noexcept { return extras_ && deferred_; }

  // Sets a field, replacing an earlier one of the same name. Date, Server, Content-Length,
  // Transfer-Encoding and Connection are the server's: set here they are ignored, except
  // "Connection: close", which closes the connection after this response.
  void set_header(std::string_view name, std::string_view value);
  // Adds a field even if one of that name exists (Set-Cookie).
  void add_header(std::string_view name, std::string_view value);
  // The first value of the named field, or an empty view.
  std::string_view header(std::string_view name) const noexcept;
  std::span<const std::pair<std::string, std::string>> headers() const noexcept {
    return {fields_.data(), count_};
  }
  // Whether the handler set "Connection: close" (any case), asking for the connection to be
  // closed after this response.
  bool closes_connection() const noexcept {
    return has_connection_field_ && iequals(header("Connection"), "close");
  }
  // Back to 200, no fields, empty body; keeps every string's capacity.
  void clear() noexcept;

  // Names what the field slots hold: it changes whenever one of them changes. With
  // headers().size(), it tells serialize() that it has built this head before.
  uint64_t fields_version() const noexcept { return version_; }

 private:
  friend void serialize(const Response&, const ResponseContext&, std::string&);
  friend struct ResponseAccess;  // the server's hand-overs (src/lib/message_access.hpp)
  void add_field(std::string_view name, std::string_view value);
  HS_LOCAL void clear_extras() noexcept;

  // What serialize() built for this Response last (http.cpp), reused while nothing in it
  // changed: allocated by the first serialize(), then kept. Per Response rather than per
  // thread, so that nothing is shared between servers. A copy starts without one; an
  // assigned-to Response forgets its own.
  struct HeadCaches;
  struct CacheSlot {
    CacheSlot() noexcept;
    ~CacheSlot();
    CacheSlot(const CacheSlot&) noexcept;
    CacheSlot& operator=(const CacheSlot&) noexcept;
    CacheSlot(CacheSlot&&) noexcept;
    CacheSlot& operator=(CacheSlot&&) noexcept;
    std::unique_ptr<HeadCaches> caches;
  };

  std::vector<std::pair<std::string, std::string>> fields_;  // [0, count_) are live
  size_t count_ = 0;
  bool has_connection_field_ = false;  // so that most responses skip looking for one
  bool extras_ = false;                // see has_extras()
  uint64_t version_ = 1;               // 0 is never a version: an empty cache's key
  BodyProducer producer_;
  TakeOver take_over_;
  std::shared_ptr<BodyReader> reader_;
  std::shared_ptr<const OpenFile> file_;
  std::shared_ptr<const std::string> shared_body_;
  std::shared_ptr<DeferredState> deferred_;
  uint64_t file_offset_ = 0;
  uint64_t extern_length_ = 0;
  mutable CacheSlot cache_;
};

// "OK", "Not Found", ...; "Unknown" for codes without a registered text.
HS_API std::string_view status_text(int status) noexcept;

// Whether a response with this status to this method carries no body (1xx, 204, 304, HEAD).
inline bool response_has_no_body(int status, std::string_view method) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304 || method == "HEAD";
}

}  // namespace hs
