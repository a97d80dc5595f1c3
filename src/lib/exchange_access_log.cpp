// The Exchange's request ids and access log lines (access_log.hpp, request_id.hpp): for a
// handler's response, for an error the exchange answers itself, and for a response that ends
// later (a stream, a body reader's, a deferred one).
#include "exchange.hpp"
#include "message_access.hpp"

namespace hs {

void Exchange::set_remote(std::string_view remote) noexcept {
  try {
    remote_ = std::make_unique<std::string>(remote);
  } catch (const std::bad_alloc&) {
  }
}

void Exchange::name_request() noexcept {
  RequestAccess::set_request_id(shared_.scratch.request,
                                shared_.worker.ids->choose(field_read("X-Request-Id")));
  shared_.scratch.answer_from = out_.size();
}

std::string_view Exchange::field_read(std::string_view name) const noexcept {
  if (!in_) return {};
  const char* data = in_->data.get();
  for (const HeaderSpan& h : in_->headers)
    if (iequals({data + h.name.offset, h.name.length}, name))
      return {data + h.value.offset, h.value.length};
  return {};
}

// What the access line of a response that ends later needs of its request: a copy, as the
// request's views go with the next one. Null when memory is short (no line then).
std::unique_ptr<PendingAccess> Exchange::pending_access_of(const Request& q) noexcept {
  try {
    auto p = std::make_unique<PendingAccess>();
    p->method = q.method();
    p->target = q.target();
    p->request_id = q.request_id();
    std::string_view version = http_version(q.version_major(), q.version_minor(), p->proto);
    p->proto_length = static_cast<uint8_t>(version.size());
    return p;
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

// The response a body reader gave once its body ended: logged now, or when its stream ends.
void Exchange::access_body_answered(const Answer& a, std::unique_ptr<PendingAccess> p) noexcept {
  p->status = shared_.scratch.response.status;
  p->head_bytes = out_.size() - shared_.scratch.answer_from;
  p->start_ns = read_ns();
  if (a.streams) {
    pending_access_ = std::move(p);
    return;
  }
  if (a.tail) p->head_bytes += shared_.scratch.response.content_length();
  access_pending(*p, p->status, p->head_bytes, microseconds_since_read());
}

void Exchange::access_pending(const PendingAccess& p, int status, uint64_t bytes,
                              uint64_t duration_us) noexcept {
  log_access(*shared_.settings.access_log, {p.method,
                                            p.target,
                                            p.request_id,
                                            remote(),
                                            {p.proto, p.proto_length},
                                            status,
                                            bytes,
                                            duration_us});
}

void Exchange::access_answered(const Answer& a) noexcept {
  if (a.deferred) return;  // logged when it is sent (see defer())
  const Request& q = shared_.scratch.request;
  const Response& r = shared_.scratch.response;
  char proto[16];
  std::string_view version = http_version(q.version_major(), q.version_minor(), proto);
  uint64_t head_bytes = out_.size() - shared_.scratch.answer_from;
  if (a.streams) {
    if (auto p = pending_access_of(q)) {
      p->status = r.status;
      p->head_bytes = head_bytes;
      p->start_ns = read_ns();
      pending_access_ = std::move(p);
    }
    return;
  }
  if (a.tail) head_bytes += r.content_length();  // the body that follows the head
  log_access(*shared_.settings.access_log,
             {q.method(), q.target(), q.request_id(), remote(), version, r.status, head_bytes,
              microseconds_since_read()});
}

// The id of a request the exchange answers itself: an upload's, the client's when sane, else
// a new one. With worker.ids only.
std::string_view Exchange::error_request_id() noexcept {
  if (upload_ && upload_->access) return upload_->access->request_id;
  return shared_.worker.ids->choose(field_read("X-Request-Id"));
}

void Exchange::access_failed(int status, uint64_t bytes, std::string_view id) noexcept {
  if (upload_ && upload_->access) {  // a body read as it arrives: its head is gone from in_
    return access_pending(*upload_->access, status, bytes, microseconds_since_read());
  }
  std::string_view target;
  if (in_) target = {in_->data.get() + in_->target.offset, in_->target.length};
  log_access(*shared_.settings.access_log,
             {method_read(), target, id, remote(), {}, status, bytes, microseconds_since_read()});
}

// A response that ended later than its head (a stream, ended or cut short): what it sent.
void Exchange::access_open_ended(uint64_t body_bytes) noexcept {
  std::unique_ptr<PendingAccess> p = std::move(pending_access_);
  access_pending(*p, p->status, p->head_bytes + body_bytes, (monotonic_ns() - p->start_ns) / 1000);
}

}  // namespace hs
