// CodecDriver: a connection's request path with no socket, for the fuzzer, the benchmarks and
// unit tests. Bytes in as reads would bring them, through RequestCodec and the Responder (the
// very code a Connection runs), the bytes of every response out, never sent.
//
// What it leaves out is what only a socket has: deadlines, backpressure, streamed bodies
// (a handler that streams gets its head written, and nothing more), lingering; and bodies
// read as they arrive (with CodecRules::head_first it reads every body whole). The tests of
// those run a real Server over loopback (tests/integration).
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "buffer_pool.hpp"
#include "connection.hpp"
#include "request_codec.hpp"
#include "responder.hpp"

namespace hs::test {

class CodecDriver {
 public:
  explicit CodecDriver(ConnectionShared& shared) : shared_(shared), codec_(shared.codec_rules) {}
  ~CodecDriver() {
    if (in_) shared_.pool.put_read(std::move(in_));
  }

  // Bytes as one read would bring them: answers every complete request in them.
  void receive(std::string_view bytes) noexcept {
    while (!stopped_ && !bytes.empty()) {
      if (!in_) in_ = shared_.pool.get_read();
      if (in_->capacity - in_->length < kMinReadRoom && !make_room()) {
        fail(codec_.in_body() ? 413 : 431);
        break;
      }
      size_t n = std::min(in_->capacity - in_->length, bytes.size());
      std::memcpy(in_->data.get() + in_->length, bytes.data(), n);
      in_->length += n;
      bytes.remove_prefix(n);
      parse();
    }
    // Between reads an idle connection gives its read buffer back to the pool.
    if (in_ && !in_request_ && in_->parsed == in_->length) {
      shared_.pool.put_read(std::move(in_));
      in_.reset();
    }
  }

  // The client's EOF. A request cut short closes the connection without an answer.
  void receive_eof() noexcept {
    if (codec_.finish() == RequestCodec::Result::error) return fail(codec_.status());
    if (in_request_) closed_ = true;
  }

  std::string& output() noexcept { return out_; }
  bool closed() const noexcept { return closed_; }
  // A response said "Connection: close" (or an error did): nothing more is parsed.
  bool stopped() const noexcept { return stopped_; }

 private:
  static constexpr size_t kMinReadRoom = 1024;

  // As Connection::parse(), less backpressure and streams.
  void parse() noexcept {
    while (!stopped_) {
      RequestCodec::Result result = codec_.decode(*in_);
      in_request_ = in_request_ || codec_.began();
      if (result == RequestCodec::Result::more) return;
      if (result == RequestCodec::Result::error) return fail(codec_.status());
      if (result == RequestCodec::Result::request) {
        dispatch();
      } else if (result == RequestCodec::Result::head) {
        // Head first (CodecRules::head_first): every body is read whole, as without it.
        if (int status = codec_.read_body()) return fail(status);
        if (codec_.head().expect_continue) out_.append("HTTP/1.1 100 Continue\r\n\r\n");
      } else {
        out_.append("HTTP/1.1 100 Continue\r\n\r\n");
      }
    }
  }

  void dispatch() noexcept {
    in_request_ = false;
    switch (answer(shared_, *in_, codec_.head(), out_).outcome) {
      case Answer::Outcome::keep_alive:
        break;
      case Answer::Outcome::head_too_big:
        return fail(431);
      default:
        stopped_ = true;
    }
  }

  void fail(int status) noexcept {
    if (stopped_) return;
    in_request_ = false;
    stopped_ = true;
    answer_error(shared_, status, out_);
  }

  bool make_room() noexcept {
    codec_.compact(*in_);
    if (in_->capacity - in_->length >= kMinReadRoom) return true;
    const Limits& l = shared_.limits;
    return in_->grow(l.max_target_bytes + l.max_header_bytes + l.max_body_bytes + 2 * kMinReadRoom +
                     shared_.pool.read_capacity());
  }

  ConnectionShared& shared_;
  RequestCodec codec_;
  std::unique_ptr<ReadBuffer> in_;
  std::string out_;
  bool in_request_ = false;
  bool stopped_ = false;
  bool closed_ = false;
};

}  // namespace hs::test
