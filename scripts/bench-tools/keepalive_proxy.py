"""A keep-alive front for an emulator, for the class-audit benchmark (`--keep-alive`).

The emulator's werkzeug server answers every request with `Connection: close`, so a client
opens a new TCP connection for every AWS call; AWS keeps connections alive, and so does the
grader's HTTP client when the server lets it. This proxy keeps the grader's connections open
(HTTP/1.1, a Content-Length on every answer) and forwards each request to the emulator on a
connection of its own, so the grader's CPU is measured as it would be against AWS. Only the
grader's side changes: the emulator still sees one connection per request.

    python keepalive_proxy.py --target http://127.0.0.1:5000 --port 0   (prints `ready URL`)
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import sys
import urllib.parse

# Hop-by-hop headers (RFC 9110, 7.6.1) are the proxy's own on each side.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}


def handler_for(target: urllib.parse.SplitResult) -> type[http.server.BaseHTTPRequestHandler]:
    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
            finally:
                upstream.close()
            self.send_response_only(answer.status, answer.reason)
            for k, v in answer.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

    return Forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="the emulator's URL")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(urllib.parse.urlsplit(args.target)))
    server.daemon_threads = True
    print(f"ready http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
