#!/usr/bin/env python3
"""Answers every GET with '<node>\\n' (the node that served it). Usage: backend.py NODE HOST PORT. Standard library only."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

node, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = f"{node}\n".encode()
response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        # Head and body in one write, as real servers send them: written apart, the body waits behind Nagle's algorithm
        # for the ACK of the head, which a keep-alive peer (the proxy's pooled connection) delays by up to 40 ms.
        self.wfile.write(response)

    def log_message(self, *args):
        pass

ThreadingHTTPServer((host, port), Handler).serve_forever()
