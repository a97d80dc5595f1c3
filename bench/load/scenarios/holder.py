#!/usr/bin/env python3
"""Idle keep-alive connections for the many-connections scenario of bench/load/run.sh.

    holder.py PORT COUNT SECONDS [request|nothing]

Opens COUNT connections to 127.0.0.1:PORT, sends one GET on each and reads its response
("request", the default: each is then a kept-alive connection between requests, the state
a browser leaves its spare connections in) or sends nothing, prints "holding N" on stdout once
all are open, holds them until SECONDS have passed or SIGTERM/SIGINT, then prints how many the
server had closed meanwhile ("closed by server M of N") and exits. Loopback only; bounded in
count and time.
"""
import errno
import resource
import selectors
import signal
import socket
import sys
import time


def main():
    port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "request"
    deadline = time.monotonic() + seconds
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    request = f"GET /idle HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    socks = []
    sel = selectors.DefaultSelector()
    for i in range(count):
        if stop or time.monotonic() > deadline:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            print(f"holder: connection {i}: {errno.errorcode.get(e.errno, e)}", file=sys.stderr)
            s.close()
            break
        if mode == "request":
            s.sendall(request)
        s.setblocking(False)
        socks.append(s)
        if mode == "request":
            sel.register(s, selectors.EVENT_READ)
    # Every response read to its blank line (the body is short: one recv takes it whole).
    waiting = len(socks) if mode == "request" else 0
    while waiting and not stop and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            try:
                data = key.fileobj.recv(4096)
            except BlockingIOError:
                continue
            sel.unregister(key.fileobj)
            waiting -= 1
            if not data:
                print("holder: a connection closed before its response", file=sys.stderr)
    print(f"holding {len(socks)}", flush=True)
    while not stop and time.monotonic() < deadline:
        time.sleep(0.05)
    closed = 0
    for s in socks:
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(f"closed by server {closed} of {len(socks)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
