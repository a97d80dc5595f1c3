/*
 * floor: the syscall-floor HTTP/1.1 server for the load benchmark.
 *
 * The least work a server over raw epoll can do per request, so that a real
 * server's requests/s can be read as a ratio to it:
 *   - one thread, non-blocking sockets, edge-triggered epoll;
 *   - on a readable event: read until EAGAIN (or a short read), find every
 *     complete request head ("\r\n\r\n"), keep a partial head for later;
 *   - answer every head with the same canned 200 response, all responses of
 *     one readable event in ONE write;
 *   - per connection: accept4, epoll_ctl ADD, close; no setsockopt (Nagle
 *     does not delay a single write per batch: the next request ACKs it);
 *   - no parsing beyond the blank line, except one memmem for
 *     "Connection: close" so that the new-connection-per-request scenario can
 *     be measured (the response then says "Connection: close" and the
 *     connection is closed after it, as every real server does).
 * Requests with a body are supported only in the bodies mode below.
 *
 * Usage: floor PORT [ADDRESS [MODES]]     (ADDRESS defaults to 127.0.0.1)
 * Stops on SIGTERM / SIGINT.
 *
 * MODES, comma-separated, for taking httpserver's gap to the floor apart (the load benchmark's
 * floor-as-httpserver targets); the plain floor is the reference of the goals:
 *   same-bytes  answer with the bytes httpserver sends: its status line, "Server: httpserver",
 *               a Date refreshed once a second, then the plain floor's fields and body (56
 *               bytes more per response, which the client pays to parse too)
 *   log         also append a logrus text line per request (`time="..." level=info
 *               msg="uri: <target>"`) to a buffer written to stderr once per loop iteration,
 *               as httpserver logs
 *   bodies      read and discard request bodies (Content-Length, or chunked: sizes parsed,
 *               data skipped) and answer once the body is in: the plain read loop that an
 *               upload's throughput is bounded by. A body that a read brings alone is read
 *               into a 256 KiB scratch buffer, never copied.
 *   defer-accept  TCP_DEFER_ACCEPT on the listener (as h2o sets it): the kernel queues a
 *               connection for accept only once its first data has arrived
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP 16384u     /* per-connection input buffer */
#define OUT_CAP 262144u   /* shared output scratch (single thread) */
#define MAX_EVENTS 256
#define SCRATCH_CAP 262144u /* bodies mode: where body bytes are read to be dropped */

static const char RESP_KEEP[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 16\r\n"
    "\r\n"
    "package main #14";
static const char RESP_CLOSE[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 16\r\n"
    "Connection: close\r\n"
    "\r\n"
    "package main #14";
#define RESP_KEEP_LEN (sizeof RESP_KEEP - 1)
#define RESP_CLOSE_LEN (sizeof RESP_CLOSE - 1)

/* The responses sent: RESP_KEEP / RESP_CLOSE, or with same-bytes, these with a Date. */
#define DATE_AT 43 /* strlen("HTTP/1.1 200 OK\r\nServer: httpserver\r\nDate: ") */
static const char SAME_HEAD[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: httpserver\r\n"
    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
static char g_keep[256], g_close[256];
static const char *g_resp_keep = RESP_KEEP, *g_resp_close = RESP_CLOSE;
static size_t g_keep_len = RESP_KEEP_LEN, g_close_len = RESP_CLOSE_LEN;

/* log mode: lines of this loop iteration, written once per iteration */
#define LOG_CAP (1u << 20)
static int g_log_on;
static char g_log[LOG_CAP];
static size_t g_log_len;
static char g_stamp[64]; /* `time="2026-01-01T00:00:00Z" level=info msg="uri: ` */
static size_t g_stamp_len;
static time_t g_second = -1;

/* Once a second: the Date of the same-bytes responses and the start of a log line. */
static void refresh_clock(void) {
  time_t now = time(NULL);
  if (now == g_second) return;
  g_second = now;
  struct tm tm;
  gmtime_r(&now, &tm);
  char date[32];
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (g_resp_keep == g_keep) {
    memcpy(g_keep + DATE_AT, date, 29);
    memcpy(g_close + DATE_AT, date, 29);
  }
  g_stamp_len = strftime(g_stamp, sizeof g_stamp, "time=\"%Y-%m-%dT%H:%M:%SZ\" level=info msg=\"uri: ", &tm);
}

static void use_same_bytes(void) {
  const char *keep_rest = RESP_KEEP + 17, *close_rest = RESP_CLOSE + 17; /* after the status line */
  g_keep_len = (size_t)snprintf(g_keep, sizeof g_keep, "%s%s", SAME_HEAD, keep_rest);
  g_close_len = (size_t)snprintf(g_close, sizeof g_close, "%s%s", SAME_HEAD, close_rest);
  g_resp_keep = g_keep;
  g_resp_close = g_close;
}

/* Appends the log line of the request whose head starts at h. */
static void log_request(const char *h, size_t head_len) {
  const char *target = memchr(h, ' ', head_len);
  const char *end = target ? memchr(target + 1, ' ', head_len - (size_t)(target + 1 - h)) : NULL;
  size_t n = end ? (size_t)(end - target - 1) : 0;
  if (g_log_len + g_stamp_len + n + 2 > LOG_CAP) return; /* dropped, as httpserver would */
  memcpy(g_log + g_log_len, g_stamp, g_stamp_len);
  g_log_len += g_stamp_len;
  if (n) memcpy(g_log + g_log_len, target + 1, n);
  g_log_len += n;
  memcpy(g_log + g_log_len, "\"\n", 2);
  g_log_len += 2;
}

static void flush_log(void) {
  size_t off = 0;
  while (off < g_log_len) {
    ssize_t w = write(2, g_log + off, g_log_len - off);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    break; /* a full disk: lose the lines, as a benchmark may */
  }
  g_log_len = 0;
}

/* bodies mode: where a connection is in a request body */
enum body_state { NO_BODY, LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILER };

struct conn {
  int fd;
  int closing;        /* a "Connection: close" head was answered */
  int answer_due;     /* the request (and its body) is in; its response is not yet queued */
  int close_after;    /* that request said "Connection: close" */
  enum body_state body;
  unsigned long long body_left; /* LENGTH, CHUNK_DATA: bytes; CHUNK_DATA_END: 2 */
  size_t line_len;    /* TRAILER: bytes of the line so far */
  int eof;            /* the peer has shut down its side */
  size_t in_len;      /* bytes held in in[] (a partial head) */
  char *pending;      /* unwritten output after a short write, or NULL */
  size_t pending_len;
  size_t pending_off;
  struct conn *next_free; /* on g_free once closed */
  char in[IN_CAP];
};

static volatile sig_atomic_t g_stop = 0;
static int g_bodies_on;
static char g_out[OUT_CAP];
static char g_scratch[SCRATCH_CAP];
static struct conn *g_free; /* closed connections, reused: no malloc/brk per accept */

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

/* close() alone takes the fd out of the epoll set: no EPOLL_CTL_DEL syscall. */
static void conn_close(struct conn *c) {
  close(c->fd);
  free(c->pending);
  c->pending = NULL;
  c->next_free = g_free;
  g_free = c;
}

static struct conn *conn_new(int fd) {
  struct conn *c = g_free;
  if (c != NULL)
    g_free = c->next_free;
  else if ((c = malloc(sizeof *c)) == NULL)
    return NULL;
  c->fd = fd;
  c->closing = 0;
  c->answer_due = 0;
  c->close_after = 0;
  c->body = NO_BODY;
  c->eof = 0;
  c->in_len = 0;
  c->pending = NULL;
  c->pending_len = c->pending_off = 0;
  return c;
}

/* Write buf; keep what the socket did not take. Returns -1 on a fatal error. */
static int conn_send(struct conn *c, const char *buf, size_t len) {
  if (c->pending != NULL) { /* still blocked: queue behind what is pending */
    char *p = realloc(c->pending, c->pending_len + len);
    if (p == NULL) return -1;
    memcpy(p + c->pending_len, buf, len);
    c->pending = p;
    c->pending_len += len;
    return 0;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(c->fd, buf + off, len - off);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) break;
    return -1;
  }
  if (off < len) {
    c->pending = malloc(len - off);
    if (c->pending == NULL) return -1;
    memcpy(c->pending, buf + off, len - off);
    c->pending_len = len - off;
    c->pending_off = 0;
  }
  return 0;
}

/* Flush pending output on EPOLLOUT. Returns -1 on a fatal error. */
static int conn_flush(struct conn *c) {
  while (c->pending != NULL && c->pending_off < c->pending_len) {
    ssize_t w = write(c->fd, c->pending + c->pending_off,
                      c->pending_len - c->pending_off);
    if (w > 0) {
      c->pending_off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return 0;
    return -1;
  }
  free(c->pending);
  c->pending = NULL;
  c->pending_len = c->pending_off = 0;
  return 0;
}

/* The value of field `name` (case-insensitive, at a line start) in a head, or NULL. */
static const char *field_value(const char *h, size_t head_len, const char *name) {
  size_t n = strlen(name);
  for (const char *p = memchr(h, '\n', head_len); p != NULL && (size_t)(p - h) + n + 1 < head_len;
       p = memchr(p + 1, '\n', head_len - (size_t)(p + 1 - h))) {
    if (strncasecmp(p + 1, name, n) == 0 && p[1 + n] == ':') {
      const char *v = p + 2 + n;
      while (*v == ' ' || *v == '\t') v++;
      return v;
    }
  }
  return NULL;
}

/* bodies mode: the framing of the body after this head */
static void body_begin(struct conn *c, const char *h, size_t head_len) {
  const char *v = field_value(h, head_len, "Transfer-Encoding");
  if (v != NULL && strncasecmp(v, "chunked", 7) == 0) {
    c->body = CHUNK_SIZE;
    c->body_left = 0;
    c->line_len = 0;
    return;
  }
  v = field_value(h, head_len, "Content-Length");
  c->body_left = v != NULL ? strtoull(v, NULL, 10) : 0;
  c->body = c->body_left > 0 ? LENGTH : NO_BODY;
}

/* bodies mode: drops the body bytes at p (n of them); returns how many were the body's. */
static size_t body_skip(struct conn *c, const char *p, size_t n) {
  size_t i = 0;
  while (i < n && c->body != NO_BODY) {
    switch (c->body) {
      case LENGTH:
      case CHUNK_DATA: {
        size_t k = n - i < c->body_left ? n - i : (size_t)c->body_left;
        i += k;
        c->body_left -= k;
        if (c->body_left == 0) {
          c->body = c->body == LENGTH ? NO_BODY : CHUNK_DATA_END;
          c->body_left = 2;
        }
        break;
      }
      case CHUNK_SIZE: { /* hex digits, then extensions up to the LF */
        char ch = p[i++];
        if (ch == '\n') {
          c->body = c->body_left > 0 ? CHUNK_DATA : TRAILER;
          c->line_len = 0;
        } else if (c->line_len == 0 && c->body_left < (1ull << 56) &&
                   ((ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'f'))) {
          c->body_left = c->body_left * 16 + (unsigned)(ch <= '9' ? ch - '0' : (ch | 32) - 'a' + 10);
        } else if (ch != '\r') {
          c->line_len = 1; /* an extension: the digits have ended */
        }
        break;
      }
      case CHUNK_DATA_END: /* the CRLF after a chunk's data */
        i++;
        if (--c->body_left == 0) {
          c->body = CHUNK_SIZE;
          c->line_len = 0;
        }
        break;
      case TRAILER: { /* lines up to an empty one */
        char ch = p[i++];
        if (ch == '\n') {
          if (c->line_len == 0) c->body = NO_BODY;
          c->line_len = 0;
        } else if (ch != '\r') {
          c->line_len++;
        }
        break;
      }
      case NO_BODY:
        break;
    }
  }
  return i;
}

/*
 * Answer every complete request in c->in (a head, and in bodies mode its body) with one
 * response appended to out, drop them from c->in and keep the partial rest. Returns bytes
 * appended.
 */
static size_t take_heads(struct conn *c, char *out, size_t out_room) {
  size_t used = 0;
  size_t start = 0;
  while (!c->closing) {
    if (c->answer_due) {
      size_t rl = c->close_after ? g_close_len : g_keep_len;
      if (out_room - used < rl) break; /* caller writes, then calls again */
      memcpy(out + used, c->close_after ? g_resp_close : g_resp_keep, rl);
      used += rl;
      c->answer_due = 0;
      if (c->close_after) c->closing = 1;
      continue;
    }
    if (c->body != NO_BODY) {
      start += body_skip(c, c->in + start, c->in_len - start);
      if (c->body != NO_BODY) break;
      c->answer_due = 1;
      continue;
    }
    const char *h = c->in + start;
    const char *end = memmem(h, c->in_len - start, "\r\n\r\n", 4);
    if (end == NULL) break;
    size_t head_len = (size_t)(end - h) + 4;
    c->close_after = memmem(h, head_len, "Connection: close", 17) != NULL;
    if (g_log_on) log_request(h, head_len);
    if (g_bodies_on) body_begin(c, h, head_len);
    start += head_len;
    if (c->body == NO_BODY) c->answer_due = 1;
  }
  if (start > 0) {
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
  }
  return used;
}

/*
 * Returns -1 when the connection must be closed now. A short read ends the
 * loop (the socket is drained: no EAGAIN read needed) unless the peer has
 * hung up: then read on to the 0 that says so, the edge will not come again.
 */
static int conn_readable(struct conn *c, int hup) {
  size_t out_len = 0;
  int eof = 0;
  for (;;) {
    if (c->closing || c->eof) break;
    if (c->in_len == IN_CAP) return -1; /* a head larger than IN_CAP */
    /* In the middle of a body with nothing held: read it where it is dropped. */
    int direct = c->body != NO_BODY && c->in_len == 0;
    size_t room = direct ? SCRATCH_CAP : IN_CAP - c->in_len;
    ssize_t r = read(c->fd, direct ? g_scratch : c->in + c->in_len, room);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    if (r == 0) {
      eof = 1;
      break;
    }
    if (direct) { /* what follows the body is the next request's: keep it */
      size_t body = body_skip(c, g_scratch, (size_t)r);
      if ((size_t)r - body > IN_CAP) return -1;
      memcpy(c->in, g_scratch + body, (size_t)r - body);
      c->in_len = (size_t)r - body;
      if (c->body == NO_BODY) c->answer_due = 1;
    } else {
      c->in_len += (size_t)r;
    }
    for (;;) {
      size_t n = take_heads(c, g_out + out_len, OUT_CAP - out_len);
      out_len += n;
      if (n == 0 || out_len + g_close_len <= OUT_CAP) break;
      /* scratch full (only with huge pipelines): write what we have */
      if (conn_send(c, g_out, out_len) < 0) return -1;
      out_len = 0;
    }
    if ((size_t)r < room && !hup) break; /* short read: drained */
  }
  if (out_len > 0 && conn_send(c, g_out, out_len) < 0) return -1;
  if (eof) c->eof = 1;
  if ((c->eof || c->closing) && c->pending == NULL) return -1;
  return 0;
}

static int listen_on(const char *addr, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [ADDRESS]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  const char *addr = argc > 2 ? argv[2] : "127.0.0.1";
  const char *modes = argc > 3 ? argv[3] : "";
  if (strstr(modes, "same-bytes")) use_same_bytes();
  if (strstr(modes, "log")) g_log_on = 1;
  if (strstr(modes, "bodies")) g_bodies_on = 1;
  int defer_accept = strstr(modes, "defer-accept") != NULL;
  refresh_clock();
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "floor: bad port %s\n", argv[1]);
    return 2;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int lfd = listen_on(addr, port);
  if (lfd < 0) {
    perror("floor: listen");
    return 1;
  }
  int one_s = 1;
  if (defer_accept && setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one_s, sizeof one_s) < 0)
    perror("floor: setsockopt(TCP_DEFER_ACCEPT)");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("floor: epoll_create1");
    return 1;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* NULL marks the listener */
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
    perror("floor: epoll_ctl");
    return 1;
  }

  struct epoll_event events[MAX_EVENTS];
  while (!g_stop) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("floor: epoll_wait");
      return 1;
    }
    if (g_resp_keep == g_keep || g_log_on) refresh_clock();
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break; /* EAGAIN, or EMFILE etc.: try on next event */
          struct conn *nc = conn_new(cfd);
          if (nc == NULL) {
            close(cfd);
            continue;
          }
          struct epoll_event cev;
          memset(&cev, 0, sizeof cev);
          cev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
          cev.data.ptr = nc;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) < 0) conn_close(nc);
        }
        continue;
      }
      uint32_t e = events[i].events;
      if (e & EPOLLERR) {
        conn_close(c);
        continue;
      }
      if ((e & EPOLLOUT) && c->pending != NULL) {
        if (conn_flush(c) < 0 ||
            ((c->closing || c->eof) && c->pending == NULL)) {
          conn_close(c);
          continue;
        }
      }
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        if (conn_readable(c, (e & (EPOLLRDHUP | EPOLLHUP)) != 0) < 0)
          conn_close(c);
      }
    }
    if (g_log_len > 0) flush_log();
  }
  close(ep);
  close(lfd);
  return 0;
}
