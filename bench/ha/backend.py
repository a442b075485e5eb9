#!/usr/bin/env python3
"""Answers every GET with '<node>\\n' (the node that served it). Usage: backend.py NODE HOST PORT. Standard library only."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

node, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = f"{node}\n".encode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

ThreadingHTTPServer((host, port), Handler).serve_forever()
