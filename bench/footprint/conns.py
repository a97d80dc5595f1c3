#!/usr/bin/env python3
"""Idle keep-alive connections and the server memory they cost.

Waits for a server to listen on 127.0.0.1:PORT, reads its RSS (VmRSS, summed over PID and
its descendants: nginx's master and worker), warms it up with a few short connections, then
opens COUNT connections one after another; each sends one GET, reads the whole response and
stays open, idle. Prints the RSS figures as key=value lines on stdout, then closes everything.

Bounded: every socket operation times out after 5 s, the whole run after --deadline seconds.
"""
import argparse
import os
import resource
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
CLOSE_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def descendants(pid):
    """pid and every process below it, from /proc/PID/task/*/children."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def rss_bytes(pids):
    """(VmRSS, RssAnon) in bytes, summed over the processes. RssAnon leaves out the pages of
    the binary and shared libraries mapped from the page cache."""
    rss = anon = 0
    for root in pids:
        for p in descendants(root):
            try:
                with open(f"/proc/{p}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss += int(line.split()[1]) * 1024
                        elif line.startswith("RssAnon:"):
                            anon += int(line.split()[1]) * 1024
            except OSError:
                pass
    return rss, anon


def listening(port):
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def read_response(sock):
    """Reads one response with a Content-Length body; returns its status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return status


def connect(port, request):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
    s.sendall(request)
    status = read_response(s)
    if status != 200:
        raise RuntimeError(f"status {status}")
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, action="append", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--deadline", type=float, default=180)
    args = ap.parse_args()
    start = time.monotonic()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.count + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    while not listening(args.port):
        if time.monotonic() - start > 10:
            sys.exit(f"conns: nothing listens on 127.0.0.1:{args.port} after 10 s")
        time.sleep(0.02)
    time.sleep(0.3)
    idle, idle_anon = rss_bytes(args.pid)
    print(f"idle_rss={idle}")
    print(f"idle_anon={idle_anon}")

    for _ in range(args.warmup):
        connect(args.port, CLOSE_REQUEST).close()
    time.sleep(0.5)
    before, before_anon = rss_bytes(args.pid)
    print(f"warm_rss={before}")
    print(f"warm_anon={before_anon}")

    open_socks = []
    try:
        for i in range(args.count):
            if time.monotonic() - start > args.deadline:
                sys.exit(f"conns: deadline passed after {i} connections")
            open_socks.append(connect(args.port, REQUEST))
        time.sleep(1.0)  # let the server finish whatever it defers (frees, log flushes)
        after, after_anon = rss_bytes(args.pid)
        # Still open? A connection the server closed reads as EOF.
        still_open = 0
        for s in open_socks:
            try:
                s.setblocking(False)
                if s.recv(1, socket.MSG_PEEK) == b"":
                    continue
            except BlockingIOError:
                pass
            still_open += 1
        print(f"loaded_rss={after}")
        print(f"connections={len(open_socks)}")
        print(f"still_open={still_open}")
        print(f"loaded_anon={after_anon}")
        print(f"per_connection={(after - before) / len(open_socks):.0f}")
        print(f"per_connection_anon={(after_anon - before_anon) / len(open_socks):.0f}")
        print(f"seconds={time.monotonic() - start:.1f}")
    finally:
        for s in open_socks:
            s.close()


if __name__ == "__main__":
    main()
