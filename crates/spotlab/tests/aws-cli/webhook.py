#!/usr/bin/env python3
"""A subscriber's HTTP endpoint, as an SNS user would write one: it confirms its
subscription by visiting the SubscribeURL, and appends every message it receives
(headers and parsed body) to a JSON-lines file.

    webhook.py PORT_FILE LOG_FILE

Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE once ready.
"""

import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        kind = self.headers.get("x-amz-sns-message-type", "")
        try:
            message = json.loads(body)
        except ValueError:
            message = body
        record = {
            "type": kind,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": message,
        }
        with open(LOG, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        if kind == "SubscriptionConfirmation" and isinstance(message, dict):
            with urllib.request.urlopen(message["SubscribeURL"], timeout=10) as answer:
                answer.read()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    PORT_FILE, LOG = sys.argv[1], sys.argv[2]
    server = HTTPServer(("127.0.0.1", 0), Hook)
    with open(PORT_FILE + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(server.server_address[1]))
    import os

    os.replace(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()
