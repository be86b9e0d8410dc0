#!/usr/bin/env python3
"""Regenerates Tests/PromWireTests/PrometheusFixtures.swift and SnappyFixtures.swift.

usage: make-promwire-fixtures.py [OUT_DIR]   (default: Tests/PromWireTests next to this Tools/)

Needs /usr/bin/prometheus (Debian's 2.42, see Tools/install-deps) and `pip install cramjam`.
It starts a throwaway Prometheus on 127.0.0.1 with a temp data dir and:
  1. remote-writes a few series with hand-picked timestamps and values (every delta-of-delta
     bucket and its edges, NaN payloads, the stale marker, ±Inf, -0.0, denormals, equal values,
     a 1-sample and a 2-sample series);
  2. scrapes itself every second for ~20 s, then swaps the target for a dead one (reload), so
     the series read stop changing (the stale markers in the data are the remote-written ones);
  3. remote-reads the same query twice: STREAMED_XOR_CHUNKS (the raw framed body and the chunks
     in it are kept) and SAMPLES (the raw snappy body, compressed by Go's snappy encoder).
Expected samples never come from the Swift code: for written series they are what was written
(checked against the SAMPLES answer, which turns -0.0 into +0.0: gogoproto omits a double equal
to 0), for scraped ones the SAMPLES answer (decoded here with cramjam and a hand-rolled protobuf
reader), checked against /api/v1/query.
SnappyFixtures.swift holds cramjam (Rust snap) encodings of inputs the Swift test regenerates.
Fixtures differ per run (timestamps, scraped values); the tests only rely on their consistency.
"""
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import cramjam

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "PromWireTests")

# ---------------------------------------------------------------- protobuf, by hand


def uvarint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_varint(num, value):
    return uvarint(num << 3) + uvarint(value)


def field_bytes(num, data):
    return uvarint(num << 3 | 2) + uvarint(len(data)) + data


def field_fixed64(num, bits):
    return uvarint(num << 3 | 1) + struct.pack("<Q", bits)


def read_uvarint(b, p):
    x = s = 0
    while True:
        c = b[p]
        p += 1
        x |= (c & 0x7F) << s
        if c < 0x80:
            return x, p
        s += 7


def fields(b):
    """Yields (field number, wire type, value) of one message; value is int or bytes."""
    p = 0
    while p < len(b):
        key, p = read_uvarint(b, p)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, p = read_uvarint(b, p)
        elif wt == 1:
            v = struct.unpack("<Q", b[p:p + 8])[0]
            p += 8
        elif wt == 2:
            n, p = read_uvarint(b, p)
            v = b[p:p + n]
            p += n
        elif wt == 5:
            v = struct.unpack("<I", b[p:p + 4])[0]
            p += 4
        else:
            raise ValueError(f"wire type {wt}")
        yield num, wt, v


def int64(u):
    return u - (1 << 64) if u >= 1 << 63 else u


def labels_of(msg_fields):
    out = {}
    for num, _, v in msg_fields:
        if num == 1:
            kv = {n: val.decode() for n, _, val in fields(v)}
            out[kv.get(1, "")] = kv.get(2, "")
    return out


def series_id(labels):
    """`name{k="v",...}` over every label but the name, external ones included."""
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return labels.get("__name__", "") + "{" + rest + "}"


def label(name, value):
    return field_bytes(1, name.encode()) + field_bytes(2, value.encode())


def write_request(series):
    body = b""
    for labels, samples in series:
        ts = b"".join(field_bytes(1, label(k, v)) for k, v in sorted(labels.items()))
        ts += b"".join(field_bytes(2, field_fixed64(1, bits) + field_varint(2, t)) for t, bits in samples)
        body += field_bytes(1, ts)
    return body


def read_request(start, end, regex, response_type):
    name = field_varint(1, 2) + field_bytes(2, b"__name__") + field_bytes(3, regex.encode())  # RE
    # The dead target's own series (up=0 every second) keep changing; leave them out.
    not_dead = field_varint(1, 1) + field_bytes(2, b"instance") + field_bytes(3, DEAD_TARGET.encode())  # NEQ
    query = field_varint(1, start) + field_varint(2, end) + field_bytes(3, name) + field_bytes(3, not_dead)
    return field_bytes(1, query) + field_varint(2, response_type)


# ---------------------------------------------------------------- checksums


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------- the data we write


def f64(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


NAN_GO = 0x7FF8000000000001  # Go's math.NaN()
STALE = 0x7FF0000000000002  # Prometheus' staleness marker
NAN_OTHER = 0xFFF8DEADBEEF0001


def edge_series(base):
    """Timestamps whose delta-of-delta walks every bucket edge; values covering the XOR cases."""
    dods = [0, 1, -1, 8192, -8191, 8193, -8192, 65536, -65535, 65537, -65536,
            524288, -524287, 524289, -524288, 0, 0, 3, -2, 0]
    values = [f64(0.0), f64(0.0), f64(1.5), f64(-0.0), f64(math.inf), f64(-math.inf), NAN_GO, STALE,
              NAN_OTHER, f64(1e308), 1, 0x8000000000000001, f64(1.0), f64(1.0) + 1, f64(1.0),
              f64(-2.5), f64(123456.789), f64(123456.789), f64(3.0), STALE, f64(42.0)]
    ts, delta, t = [], 15000, base
    ts.append(t)
    t += delta
    ts.append(t)
    for dod in dods:
        delta += dod
        assert delta > 0
        t += delta
        ts.append(t)
    return list(zip(ts, values[:len(ts)] + [f64(7.0)] * (len(ts) - len(values))))


def written_series(now):
    base = (now - 50 * 60 * 1000) // 1000 * 1000
    irregular, t = [], base + 7
    for i in range(150):  # more than one chunk's worth, irregular gaps, a counter with resets
        t += 1000 + (i * 7919) % 4000
        irregular.append((t, f64(float((i * 37) % 101 if i % 50 else 0))))
    return [
        ({"__name__": "fixture_edges", "job": "fixture"}, edge_series(base)),
        ({"__name__": "fixture_irregular", "job": "fixture"}, irregular),
        ({"__name__": "fixture_single", "job": "fixture"}, [(base + 1234, f64(0.25))]),
        ({"__name__": "fixture_pair", "job": "fixture"}, [(base + 1000, f64(1.0)), (base + 61000, f64(-1.0))]),
    ]


SCRAPED = ["up", "prometheus_tsdb_head_samples_appended_total", "scrape_duration_seconds", "go_memstats_alloc_bytes"]

# ---------------------------------------------------------------- Prometheus


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()


DEAD_TARGET = "127.0.0.1:1"


def config(target):
    return ("global:\n  scrape_interval: 1s\n  external_labels:\n    cluster: fixture\n"
            f"scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['{target}']\n")


def main():
    tmp = tempfile.mkdtemp(prefix="promwire-fixtures-")
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(config(f"127.0.0.1:{port}"))
    log = open(os.path.join(tmp, "log"), "w")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}",
         f"--storage.tsdb.path={tmp}/data", "--web.enable-lifecycle", "--web.enable-remote-write-receiver"],
        stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise SystemExit("prometheus exited; see " + log.name)
            try:
                if http("GET", url + "/-/ready")[0] == 200:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        version = json.loads(http("GET", url + "/api/v1/status/buildinfo")[2])["data"]["version"]
        now = int(time.time() * 1000)
        written = written_series(now)
        status = http("POST", url + "/api/v1/write", bytes(cramjam.snappy.compress_raw(write_request(written))),
                      {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                       "X-Prometheus-Remote-Write-Version": "0.1.0"})[0]
        assert status == 204, status
        time.sleep(20)
        with open(cfg, "w") as f:
            # Freeze the scraped series; the dead target's own series are excluded from the reads.
            f.write(config(DEAD_TARGET))
        assert http("POST", url + "/-/reload")[0] == 200
        time.sleep(4)

        regex = "fixture_.*|" + "|".join(SCRAPED)
        start, end = now - 2 * 3600 * 1000, int(time.time() * 1000) + 60000
        headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                   "X-Prometheus-Remote-Read-Version": "0.1.0"}
        _, h, streamed = http("POST", url + "/api/v1/read",
                              bytes(cramjam.snappy.compress_raw(read_request(start, end, regex, 1))), headers)
        assert h["Content-Type"].startswith("application/x-streamed-protobuf"), h
        _, h, samples_body = http("POST", url + "/api/v1/read",
                                  bytes(cramjam.snappy.compress_raw(read_request(start, end, regex, 0))), headers)
        assert h["Content-Type"].startswith("application/x-protobuf") and h.get("Content-Encoding") == "snappy", h

        # SAMPLES: the expected samples per series.
        decoded = bytes(cramjam.snappy.decompress_raw(samples_body))
        expected = {}
        for num, _, result in fields(decoded):
            assert num == 1
            for num2, _, ts in fields(result):
                lf = list(fields(ts))
                name = series_id(labels_of(lf))
                samples = []
                for num3, _, s in lf:
                    if num3 == 2:
                        sf = {n: v for n, _, v in fields(s)}
                        samples.append((int64(sf.get(2, 0)), sf.get(1, 0)))
                expected[name] = samples

        # SAMPLES loses one thing: gogoproto omits a double field equal to 0, and -0.0 == 0, so
        # -0.0 arrives as +0.0. Chunks keep the sign, so for written series what we wrote is the truth.
        negative_zero = f64(-0.0)
        for labels, samples in written:
            key = series_id({**labels, "cluster": "fixture"})
            got = expected[key]
            assert got == [(t, 0 if b == negative_zero else b) for t, b in samples], (labels, got[:5], samples[:5])
            expected[key] = samples
        for name in SCRAPED:
            check_against_query_api(url, name, expected, end)

        # STREAMED: frames, then chunks.
        frames, chunks, p = [], [], 0
        while p < len(streamed):
            size, p2 = read_uvarint(streamed, p)
            crc = struct.unpack(">I", streamed[p2:p2 + 4])[0]
            msg = streamed[p2 + 4:p2 + 4 + size]
            assert crc32c(msg) == crc
            frames.append(size)
            for num, _, cs in fields(msg):
                if num != 1:
                    continue
                cf = list(fields(cs))
                name = series_id(labels_of(cf))
                for num2, _, ch in cf:
                    if num2 == 2:
                        c = {n: v for n, _, v in fields(ch)}
                        assert c.get(3) == 1, "XOR"
                        lo, hi = int64(c.get(1, 0)), int64(c.get(2, 0))
                        inside = [s for s in expected[name] if lo <= s[0] <= hi]
                        count = struct.unpack(">H", c[4][:2])[0]
                        assert count == len(inside), (name, count, len(inside))
                        chunks.append((name, lo, hi, bytes(c[4]), inside))
            p = p2 + 4 + size

        emit_prometheus_fixtures(version, streamed, frames, chunks, samples_body, decoded, expected)
        emit_snappy_fixtures()
        print(f"prometheus {version}: {len(frames)} frames ({len(streamed)} B), {len(chunks)} chunks, "
              f"SAMPLES {len(samples_body)} B snappy -> {len(decoded)} B; tags used: {snappy_tags(samples_body)}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def check_against_query_api(url, name, expected, at_ms):
    """A third opinion for scraped series: raw samples through PromQL (staleness markers excluded)."""
    q = urllib.parse.urlencode({"query": f"{name}[1h]", "time": f"{at_ms / 1000:.3f}"})
    data = json.loads(http("GET", f"{url}/api/v1/query?{q}")[2])["data"]["result"]
    assert data, name
    for series in [s for s in data if s["metric"].get("instance") != DEAD_TARGET]:
        samples = expected[series_id({**series["metric"], "cluster": "fixture"})]
        api = [(round(float(t) * 1000), float(v)) for t, v in series["values"]]
        ours = [(t, struct.unpack("<d", struct.pack("<Q", b))[0]) for t, b in samples if b != STALE]
        assert len(api) == len(ours) and all(
            a[0] == o[0] and (a[1] == o[1] or (math.isnan(a[1]) and math.isnan(o[1]))) for a, o in zip(api, ours)
        ), (name, api[:3], ours[:3])


def snappy_tags(body):
    """Which element kinds a snappy block uses (to prove the fixture exercises copies)."""
    n, p = read_uvarint(body, 0)
    kinds = {}
    while p < len(body):
        tag = body[p]
        kind = tag & 3
        if kind == 0:
            length = tag >> 2
            p += 1
            if length >= 60:
                extra = length - 59
                length = int.from_bytes(body[p:p + extra], "little")
                p += extra
            p += length + 1
            name = "literal"
        else:
            p += {1: 2, 2: 3, 3: 5}[kind]
            name = {1: "copy1", 2: "copy2", 3: "copy4"}[kind]
        kinds[name] = kinds.get(name, 0) + 1
    return kinds


# ---------------------------------------------------------------- Swift output


def hex_lines(data, indent="        "):
    h = data.hex()
    return "\n".join(f'{indent}"{h[i:i + 120]}",' for i in range(0, len(h), 120)) or f'{indent}"",'


def samples_literal(samples):
    return ", ".join(f"({t}, 0x{b:016x})" for t, b in samples)


def emit_prometheus_fixtures(version, streamed, frames, chunks, samples_body, decoded, expected):
    out = [
        f"// Generated by Tools/make-promwire-fixtures.py against Prometheus {version}; do not edit.",
        "// Chunks and bodies are Prometheus' own bytes; expected samples are what was remote-written, or its SAMPLES answer.",
        "",
        "enum PrometheusFixtures {",
        "    struct Chunk {",
        "        let series: String",
        "        let minTime: Int64",
        "        let maxTime: Int64",
        "        let data: [UInt8]",
        "        /// (timestamp, value bit pattern)",
        "        let samples: [(Int64, UInt64)]",
        "    }",
        "",
        "    static let chunks: [Chunk] = [",
    ]
    for name, lo, hi, data, inside in chunks:
        out += [
            f"        Chunk(",
            f'            series: #"{name}"#, minTime: {lo}, maxTime: {hi},',
            f"            data: bytes(fromHex:",
            hex_lines(data, "                ")[:-1] + "),",
            f"            samples: [{samples_literal(inside)}]),",
        ]
    out += [
        "    ]",
        "",
        "    /// The whole STREAMED_XOR_CHUNKS body of the same read: frames as Prometheus sent them.",
        "    static let streamedBody = bytes(fromHex:",
        hex_lines(streamed)[:-1] + ")",
        f"    static let streamedFrameLengths = {frames}",
        "",
        "    /// The SAMPLES body of the same read: a ReadResponse, snappy-compressed by Go's encoder.",
        "    static let samplesBody = bytes(fromHex:",
        hex_lines(samples_body)[:-1] + ")",
        f"    static let samplesDecodedLength = {len(decoded)}",
        f"    static let samplesDecodedCRC32C: UInt32 = 0x{crc32c(decoded):08x}",
        f"    static let samplesTotal = {sum(len(s) for s in expected.values())}",
        "}",
        "",
    ]
    with open(os.path.join(OUT, "PrometheusFixtures.swift"), "w") as f:
        f.write("\n".join(out))


def snappy_inputs():
    """The inputs SnappyFixtures' tests rebuild in Swift (SnappyTests.swift, `cramjamInputs`)."""
    text = "".join(f'series_{i % 37}{{job="x"}} {i % 10}\n' for i in range(1200)).encode()
    runs = b"a" * 1000 + b"ab" * 500 + bytes(range(256)) * 4 + b"xyz" * 100
    state, noise = 12345, bytearray()
    for _ in range(3000):
        state = (state * 1103515245 + 12345) % (1 << 31)
        noise.append(state >> 16 & 0xFF)
    return [("text", text), ("runs", runs), ("noise", bytes(noise)), ("empty", b"")]


def emit_snappy_fixtures():
    out = [
        f"// Generated by Tools/make-promwire-fixtures.py with cramjam {cramjam.__version__} (Rust snap); do not edit.",
        "// Each entry is cramjam.snappy.compress_raw(input); SnappyTests rebuilds the inputs.",
        "",
        "enum SnappyFixtures {",
        "    static let cramjam: [String: [UInt8]] = [",
    ]
    for name, data in snappy_inputs():
        comp = bytes(cramjam.snappy.compress_raw(data))
        assert bytes(cramjam.snappy.decompress_raw(comp)) == data
        out += [f'        "{name}": bytes(fromHex:', hex_lines(comp, "            ")[:-1] + "),"]
        print(f"cramjam {name}: {len(data)} -> {len(comp)} B, tags {snappy_tags(comp)}")
    out += ["    ]", "}", ""]
    with open(os.path.join(OUT, "SnappyFixtures.swift"), "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
