#!/usr/bin/env python3
"""The S3 test servers' companion (see Tests/TestSupport/S3TestServer.swift): `python3 s3_test_client.py SERVER ARGS...`.

* Unblocks all signals first: Foundation's `Process` hands a child the signal mask of the
  spawning thread, and Swift's concurrency threads block SIGTERM (and most others).
* Runs the server in its own process group; stops it on SIGTERM, or at EOF on stdin (the
  test process closed the socket or died: then it also removes the temp dir); exits when
  the server exits.
* Answers requests, one JSON array per line on stdin, with one JSON object per line on stdout:
  an independent boto3 client, so tests never check Skiff's S3 code with Skiff's S3 code.

Configured by the environment: S3TS_ENDPOINT, S3TS_ACCESS_KEY, S3TS_SECRET_KEY, S3TS_REGION,
S3TS_DIRECTORY (the server's temp dir) and S3TS_CA (the CA file of an HTTPS server, optional).
"""
import hashlib, json, os, shutil, signal, subprocess, sys, threading
signal.pthread_sigmask(signal.SIG_SETMASK, set())
os.setpgid(0, 0)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=2, stderr=2)

def client():
    e = os.environ
    # botocore bug: after an empty PUT with "Expect: 100-continue" that a Go server answers
    # without "100 Continue" (juicefs), the next PUT on that connection hangs until timeout.
    e["BOTO_EXPERIMENTAL__NO_EMPTY_CONTINUE"] = "true"
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=e["S3TS_ENDPOINT"], region_name=e["S3TS_REGION"],
        aws_access_key_id=e["S3TS_ACCESS_KEY"], aws_secret_access_key=e["S3TS_SECRET_KEY"],
        verify=e.get("S3TS_CA") or None,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=5,
            read_timeout=60, retries={"total_max_attempts": 3, "mode": "standard"},
            request_checksum_calculation="when_required", response_checksum_validation="when_required"))

def run(s3, op, bucket, *args):
    def items(name, field):
        for page in s3.get_paginator(name).paginate(Bucket=bucket):
            yield from page.get(field, [])
    if op == "make-bucket":
        # A retried CreateBucket whose first attempt did succeed (a slow, just-started server)
        # answers BucketAlreadyOwnedByYou: the bucket is ours, which is what was asked.
        try: s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou: pass
    elif op == "list": return {o["Key"]: o["Size"] for o in items("list_objects_v2", "Contents")}
    elif op == "uploads": return [[u["Key"], u["UploadId"]] for u in items("list_multipart_uploads", "Uploads")]
    elif op == "sha256":
        body, digest = s3.get_object(Bucket=bucket, Key=args[0])["Body"], hashlib.sha256()
        for chunk in iter(lambda: body.read(1 << 20), b""): digest.update(chunk)
        return digest.hexdigest()
    elif op == "put":
        with open(args[1], "rb") as f: s3.put_object(Bucket=bucket, Key=args[0], Body=f.read())
    elif op == "start-upload": return s3.create_multipart_upload(Bucket=bucket, Key=args[0])["UploadId"]
    elif op == "delete": s3.delete_object(Bucket=bucket, Key=args[0])
    else: raise ValueError(f"unknown operation {op}")

def serve():
    try: s3, broken = client(), None
    except Exception as error: s3, broken = None, f"{error} (python {sys.executable}); run Tools/install-deps"
    try:
        for line in sys.stdin.buffer:
            try: reply = {"ok": run(s3, *json.loads(line))} if s3 else {"error": broken}
            except Exception as error: reply = {"error": f"{type(error).__name__}: {error}"}
            sys.stdout.buffer.write(json.dumps(reply).encode() + b"\n")
            sys.stdout.buffer.flush()
    finally:
        orphaned.set()
        done.set()

orphaned = threading.Event()
threading.Thread(target=serve, daemon=True).start()
while server.poll() is None and not done.wait(0.05): pass
if server.poll() is None:
    server.terminate()
    try: server.wait(10)
    except subprocess.TimeoutExpired: os.killpg(0, signal.SIGKILL)
if orphaned.is_set(): shutil.rmtree(os.environ["S3TS_DIRECTORY"], ignore_errors=True)
# os._exit: a normal exit would wait for the daemon thread's lock on stdin, then abort.
os._exit(server.returncode if server.returncode >= 0 else 128 - server.returncode)
