#!/usr/bin/env python3
"""A stand-in for the OpenClaw gateway in tests: answers /healthz and /readyz with the JSON
shapes of OpenClaw 2026.9.6 and the Control UI's HTML elsewhere, on 127.0.0.1:<port>.

It writes its pid to --pidfile once it listens and appends one line per start to --starts,
so a test can count restarts. While the file named by --not-ready exists, /readyz answers
503 like a gateway with a failing subsystem. Tests freeze it with SIGSTOP (it then accepts connections and
never answers, like a hung gateway) or kill it (connection refused)."""

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    started = time.time()
    not_ready_file = None

    def do_GET(self):
        uptime_ms = int((time.time() - self.started) * 1000)
        if self.path in ("/health", "/healthz"):
            self.answer(200, "application/json", json.dumps({"ok": True, "status": "live"}))
        elif self.path in ("/ready", "/readyz") and self.not_ready_file and os.path.exists(self.not_ready_file):
            body = {"ready": False, "failing": ["agent-database:main"], "uptimeMs": uptime_ms}
            self.answer(503, "application/json", json.dumps(body))
        elif self.path in ("/ready", "/readyz"):
            self.answer(200, "application/json", json.dumps({"ready": True, "failing": [], "uptimeMs": uptime_ms}))
        else:
            self.answer(200, "text/html; charset=utf-8", "<!doctype html><title>OpenClaw Control</title>")

    def answer(self, status, content_type, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--starts", required=True)
    parser.add_argument("--not-ready")
    args = parser.parse_args()
    Handler.not_ready_file = args.not_ready
    # A restart right after a kill must not fail on a port in TIME_WAIT or still closing.
    deadline = time.time() + 10
    while True:
        try:
            server = HTTPServer(("127.0.0.1", args.port), Handler)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    with open(args.pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(args.pidfile + ".tmp", args.pidfile)
    with open(args.starts, "a") as f:
        f.write(f"{os.getpid()}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
