"""Slow and hostile HTTP clients against the live monitor (`slawatch run`, http: section).

Issue 16 measured these through the binary; they must now hold:
  1. Six connections each sending one header line a second do not block the
     probes: every /livez and /readyz answers, each within 2 s.
  2. A POST with `Content-Length: 1e12` is answered 400 at once.
  3. Malformed paths and bad UTF-8 are 400 (never a 500 with internal text):
     /api/v1/cases/%ff%fe, and /api/v1/cases/HK%00x does not look up HK.

usage: slow_clients.py SLAWATCH RULES_DIR
"""
import os
import socket
import threading
import time
import urllib.error
import urllib.request

from e2e_common import TempDir, check, main
from live_monitor import TOKEN, Monitor

SLOW_CLIENTS = 6


def trickle(port, stop):
    """Sends a request one header line a second until told to stop."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        n = 0
        while not stop.wait(1.0):
            try:
                s.sendall(f"X-Slow-{n}: {n}\r\n".encode())
            except OSError:
                return  # the server gave up on it: as it should
            n += 1


def status_of(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (TimeoutError, urllib.error.URLError) as e:
        return 0, f"no answer within {timeout} s ({e})"


def raw_answer(port, request, timeout=3):
    """The status line of the answer to these bytes (read before the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        received = b""
        while b"\r\n" not in received:
            chunk = s.recv(4096)
            if not chunk:
                break
            received += chunk
        return received.split(b"\r\n", 1)[0].decode()


def test(argv):
    check(len(argv) == 2, "usage: slow_clients.py SLAWATCH RULES_DIR")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("slow-clients") as work:
        open(os.path.join(work, "events.jsonl"), "w").close()
        config = os.path.join(work, "slawatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"rules: {rules}\nstate_dir: state\ninput: events.jsonl\nalerts_output: alerts.jsonl\n"
                    f"http: {{listen: '127.0.0.1:0'}}\nreload: {{watch: 0s, token: {TOKEN}}}\n")
        monitor = Monitor(slawatch, config, work)
        try:
            port = int(monitor.url.rsplit(":", 1)[1])
            stop = threading.Event()
            slow = [threading.Thread(target=trickle, args=(port, stop)) for _ in range(SLOW_CLIENTS)]
            for t in slow:
                t.start()
            time.sleep(0.5)  # let the slow clients take their threads first
            slowest = 0.0
            for _ in range(12):
                for path in ("/livez", "/readyz"):
                    started = time.monotonic()
                    status, body = status_of(monitor.url + path)
                    slowest = max(slowest, time.monotonic() - started)
                    check(status in (200, 503), f"{path} beside slow clients: {status} {body!r}")
                time.sleep(0.25)
            stop.set()
            for t in slow:
                t.join()
            print(f"{SLOW_CLIENTS} slow clients: 24 probes answered, slowest {slowest * 1000:.0f} ms")

            started = time.monotonic()
            line = raw_answer(port, b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1e12\r\n\r\n")
            check(line.startswith("HTTP/1.1 400"), f"Content-Length 1e12 answered {line!r}")
            check(time.monotonic() - started < 2, "Content-Length 1e12 was not answered at once")

            for path in ("/api/v1/cases/%ff%fe", "/api/v1/cases/HK%00x"):
                status, body = status_of(monitor.url + path)
                check(status == 400 and body.startswith("malformed path"), f"{path}: {status} {body!r}")
            print("Content-Length 1e12: 400 at once; %ff%fe and HK%00x: 400")
        finally:
            monitor.stop()


if __name__ == "__main__":
    main(test)
