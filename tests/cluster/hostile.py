#!/usr/bin/env python3
"""A hostile quorum-<i>: answers every poll with something invalid.

    hostile.py PORT PEERS DONEFILE BADSIG.json OTHER.json

Stages, in order; a stage ends once each of PEERS distinct client addresses
has had at least one answer from it, so every polling node sees every kind:

  raw        bytes that are not HTTP at all
  garbage    HTTP 200, a body that is not JSON
  big-len    HTTP 200, 20 KiB (> 16 KiB) of JSON, with Content-Length
  big-close  the same, no Content-Length, ended by closing the connection
  badsig     a real document of this ordinal with one hex char of sig flipped
  ordinal    a valid, signed document of another ordinal

After the last stage it writes DONEFILE (the stages seen, one a line) and
exits, so the real daemon can take the port.
"""
import os
import socket
import socketserver
import sys
import threading

port = int(sys.argv[1])
peers = int(sys.argv[2])
donefile = sys.argv[3]
badsig = open(sys.argv[4], "rb").read().strip()
other = open(sys.argv[5], "rb").read().strip()

pad = b'{"v":1,"pad":"' + b"A" * 20480 + b'"}'
stages = [
    ("raw", None),
    ("garbage", b"\x00\xff<html>not json{{{\n"),
    ("big-len", pad),
    ("big-close", pad),
    ("badsig", badsig),
    ("ordinal", other),
]

lock = threading.Lock()
state = {"stage": 0, "seen": set(), "log": []}
finished = threading.Event()


def answer(conn, name, body):
    if name == "raw":
        conn.sendall(b"\x16\x03\x01garbage that is not HTTP\r\n\r\n")
        return
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    if name == "big-close":
        head += b"Connection: close\r\n\r\n"
    else:
        head += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    conn.sendall(head + body)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        client = self.client_address[0]
        with lock:
            if state["stage"] >= len(stages):
                return
            name, body = stages[state["stage"]]
            state["seen"].add(client)
            state["log"].append("%s %s" % (name, client))
            if len(state["seen"]) >= peers:
                state["stage"] += 1
                state["seen"] = set()
                if state["stage"] >= len(stages):
                    finished.set()
        try:
            answer(conn, name, body)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


srv = Server(("0.0.0.0", port), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
finished.wait()
srv.shutdown()
srv.server_close()
with open(donefile + ".tmp", "w") as f:
    f.write("\n".join(state["log"]) + "\n")
os.rename(donefile + ".tmp", donefile)
