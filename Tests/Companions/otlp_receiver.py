"""A small OTLP/HTTP receiver for the tracing tests: accepts POST /v1/traces (protobuf, gzip
allowed), appends each request body, decompressed, to the file named by argv[2], and answers
200 with an empty ExportTraceServiceResponse. Listens on 127.0.0.1:argv[1]. Protobuf strings
are stored as plain UTF-8, so a test can look for span and service names in the bytes."""
import gzip
import http.server
import signal
import sys

# A test process that handles SIGTERM itself (ServiceLifecycle) passes it on ignored; without
# this the receiver would outlive the test and hold its output pipes open.
signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with open(sys.argv[2], "ab") as out:
            out.write(body)
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
