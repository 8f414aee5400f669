"""A fault-injecting HTTP proxy for S3 (in front of moto's server): fails a share of requests as a bad minute of
any cloud does, with 500 or 503, a slow answer, or a connection reset before or after the request reached S3."""

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

KINDS = ("500", "503", "slow", "reset before", "reset after")
SLOW_SECONDS = 3.5  # past the S3 client's read timeout: it gives up and retries
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class FaultProxy:
    """Relays to `upstream`, failing `share` of the requests (after the first `spare`) with one of `kinds`;
    `only(method, path)`, when given, says which requests may fail at all."""

    def __init__(self, upstream, share, seed=0, spare=0, kinds=KINDS, only=None):
        self.upstream = urlparse(upstream)
        self.share, self.rng, self.spare, self.kinds, self.only = share, random.Random(seed), spare, kinds, only
        self.faults, self.requests = Counter(), 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()  # headers and body go out as two writes: without this, Nagle's algorithm holds
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # the body 40 ms for an ACK

            def relay(self):
                proxy.relay(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _fault(self, method, path):
        with self._lock:
            self.requests += 1
            if self.requests <= self.spare or (self.only and not self.only(method, path)):
                return None
            if self.rng.random() >= self.share:
                return None
            kind = self.rng.choice(self.kinds)
            self.faults[kind] += 1
            return kind

    @staticmethod
    def _body(handler):
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0], 16)
                if not size:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts), True
                parts.append(handler.rfile.read(size))
                handler.rfile.readline()
        return handler.rfile.read(int(handler.headers.get("Content-Length", 0) or 0)), False

    @staticmethod
    def _reset(handler):
        """Close the client's connection with a TCP reset, no answer."""
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()

    def relay(self, handler):
        body, chunked = self._body(handler)
        fault = self._fault(handler.command, handler.path)
        if fault in ("500", "503"):
            code = "InternalError" if fault == "500" else "ServiceUnavailable"
            error = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            handler.send_response(int(fault))
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(error)))
            handler.end_headers()
            handler.wfile.write(error)
            return
        if fault == "reset before":
            self._reset(handler)
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        if chunked:
            headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        upstream.request(handler.command, handler.path, body=body if body or chunked else None, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        upstream.close()
        if fault == "reset after":  # it reached S3 and was applied; the answer is lost
            self._reset(handler)
            return
        if fault == "slow":
            time.sleep(SLOW_SECONDS)
        try:
            handler.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        except OSError:  # the client gave up waiting (the slow answer): it retries
            handler.close_connection = True
