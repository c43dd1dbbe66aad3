"""An HTTP server that answers like a fresh `nginx` container, one per task port.

While an emulated task with a public IP runs, one `NginxResponder` listens on that
IP (in 127.0.0.0/8) and the container port, so `curl http://PUBLIC_IP/` behaves as
it would against the lab's nginx task. A task without a public IP gets one on an
internal loopback address, which only the emulated load balancers use. Each
request is reported to a callback as an nginx access-log line, which the task
runtime writes to CloudWatch Logs.

Each connection first passes a gate (the task's security groups, when the
account names a client address; see security_groups.py): a dropped connection
gets no answer and no access-log line, an admitted one is logged with the
address the gate names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler

from security_groups import ConnectionGate, GatedHTTPServer

WELCOME_PAGE = b"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NOT_FOUND_PAGE = b"""<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""

AccessLogSink = Callable[[str], None]


class _NginxHandler(BaseHTTPRequestHandler):
    # Every answer carries `Connection: close`, so no idle keep-alive connection
    # outlives the task once its listening socket is closed.
    protocol_version = "HTTP/1.1"
    server: _NginxServer

    def version_string(self) -> str:
        return "nginx"

    def do_GET(self) -> None:
        self._answer(include_body=True)

    def do_HEAD(self) -> None:
        self._answer(include_body=False)

    def _answer(self, include_body: bool) -> None:
        found = self.path.split("?", 1)[0] in ("/", "/index.html")
        status, page = (200, WELCOME_PAGE) if found else (404, NOT_FOUND_PAGE)
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if include_body:
            self.wfile.write(page)
        self.server.report(self._access_log_line(status, len(page)))

    def _access_log_line(self, status: int, size: int) -> str:
        # nginx's default "main" log format.
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        referer = self.headers.get("Referer", "-")
        agent = self.headers.get("User-Agent", "-")
        # Set by a load balancer in front: the client it forwarded for.
        forwarded_for = self.headers.get("X-Forwarded-For", "-")
        # client_address is the address the gate named: the account's client address
        # for an admitted direct client, else the peer (a load balancer, or 127.0.0.1).
        return (
            f'{self.client_address[0]} - - [{stamp}] "{self.requestline}" '
            f'{status} {size} "{referer}" "{agent}" "{forwarded_for}"'
        )

    def log_message(self, format: str, *args: object) -> None:
        # Requests are reported through the access-log sink, not stderr.
        pass


class _NginxServer(GatedHTTPServer):
    def __init__(self, address: tuple[str, int], sink: AccessLogSink, gate: ConnectionGate | None):
        self._sink = sink
        self._gate = gate
        super().__init__(address, _NginxHandler)

    def admit(self, peer: str) -> str | None:
        return self._gate(peer) if self._gate is not None else peer

    def report(self, line: str) -> None:
        try:
            self._sink(line)
        except Exception:  # a logging failure must never break the HTTP answer
            pass


class NginxResponder:
    """Serves the nginx welcome page on one address until stopped."""

    def __init__(self, ip: str, port: int, sink: AccessLogSink, gate: ConnectionGate | None = None):
        self.ip = ip
        self.port = port
        self._server = _NginxServer((ip, port), sink, gate)  # binds now; raises OSError
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"nginx {ip}:{port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket; new connections are refused from then on."""
        self._server.shutdown()
        self._server.server_close()

    def close(self) -> None:
        """Release the socket of a responder that was never started."""
        self._server.server_close()


def stop_responders(responders: Iterable[NginxResponder]) -> None:
    """Stop several responders in parallel, so many tasks stopping do not queue up
    behind each serving loop's poll interval."""
    stoppers = [threading.Thread(target=r.stop, daemon=True) for r in responders]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()
