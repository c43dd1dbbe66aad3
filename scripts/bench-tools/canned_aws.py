#!/usr/bin/env python3
"""A canned AWS endpoint on loopback for `call-floor` (scripts/bench): it answers the few
calls that measurement makes with fixed bodies, after an optional delay, and keeps
connections alive, so that what is measured is the caller's CPU per call, not moto's.

    canned_aws.py PORT [DELAY_MS]

It answers ECS (JSON 1.1) with a cluster that is missing, Cloud Control (JSON 1.0) with
ResourceNotFoundException, and anything else with an empty EC2 DescribeSecurityGroups.
"""
from __future__ import annotations

import http.server
import socketserver
import sys
import time

ECS = b'{"clusters":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:cluster/fargate-lab","reason":"MISSING"}]}'
CLOUD_CONTROL = b'{"__type":"ResourceNotFoundException","Message":"Resource of type AWS::SSM::Parameter with identifier x was not found."}'
EC2 = (
    b'<?xml version="1.0" encoding="UTF-8"?><DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
    b"<requestId>59dbff89-35bd-4eac-99ed-be587example</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>"
)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS does
    # Headers and body leave in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True
    delay = 0.0

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(self.delay)
        target = self.headers.get("x-amz-target") or ""
        status, content_type, body = 200, "text/xml", EC2
        if "AmazonEC2ContainerService" in target:
            content_type, body = "application/x-amz-json-1.1", ECS
        elif "CloudApiService" in target:
            status, content_type, body = 400, "application/x-amz-json-1.0", CLOUD_CONTROL
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-amzn-requestid", "59dbff89-35bd-4eac-99ed-be587example")
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main() -> None:
    Handler.delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
