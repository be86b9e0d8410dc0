"""A stand-in OAuth2 token endpoint on 127.0.0.1 for the GCS token tests (standard library only).

usage: oauth_token_server.py PORT MODE
  MODE "ok:SECONDS" answers every POST with a fresh access token ("token-N") living SECONDS;
  MODE "refuse" answers 400 with an OAuth error, as Google does for a bad grant.
GET /count answers how many token requests came in; each request's form must carry the JWT
bearer grant type and a three-part assertion, or it is answered 400 "malformed".
"""
import http.server
import json
import sys
import urllib.parse

port, mode = int(sys.argv[1]), sys.argv[2]
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200, {"count": count})

    def do_POST(self):
        global count
        count += 1
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        grant = form.get("grant_type", [""])[0]
        assertion = form.get("assertion", [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" or assertion.count(".") != 2:
            self.answer(400, {"error": "malformed"})
        elif mode == "refuse":
            self.answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        else:
            self.answer(200, {"access_token": f"token-{count}", "expires_in": int(mode.split(":")[1])})

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
