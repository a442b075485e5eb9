#!/usr/bin/env python3
"""Probes http://VIP:PORT/ every INTERVAL seconds from inside the client namespace and prints one line per probe:
   <unix-ns> <status> <node>   (status 0 = no connection within 50 ms or no answer within 300 ms; node = first word of the body)
Runs until killed. Standard library only."""
import socket, sys, time

vip, port, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# A SYN sent to a dead owner's MAC is never answered and its retry comes only after 1 s, so the connect gives up
# quickly and the next probe (after a gratuitous ARP, to the new owner) starts at once. A connected request may take
# longer on a loaded host (proxy and backend are user-space processes): it gets 300 ms.
connect_timeout = max(interval, 0.05)
answer_timeout = 0.3
request = f"GET / HTTP/1.1\r\nHost: {vip}\r\nConnection: close\r\n\r\n".encode()
out = sys.stdout
while True:
    started = time.monotonic()
    status, node = 0, "-"
    try:
        with socket.create_connection((vip, port), timeout=connect_timeout) as s:
            s.settimeout(answer_timeout)
            s.sendall(request)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        node = (body.split() or [b"-"])[0].decode(errors="replace")
    except (OSError, ValueError, IndexError):
        pass
    out.write(f"{time.time_ns()} {status} {node}\n")
    out.flush()
    time.sleep(max(0.0, interval - (time.monotonic() - started)))
