#!/usr/bin/env python3
"""The StoreAPI seen by a Python grpcio client (another gRPC stack than Skiff's, as a Thanos
Querier's Go one is): thanos.Store/Series with response_batch_size, limit, without_replica_labels
and shard_info, checked against the unbatched, unsharded answer of the same call and against the
shard assignment computed by xxHash's C reference library (xxhash_reference.py).

  storeapi_check.py PROTOS_DIR WORK_DIR HOST:PORT MINT MAXT MATCHER_NAME MATCHER_REGEX

Prints one line per check; exits 1 with the reason on the first failure.
"""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xxhash_reference  # noqa: E402


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def stubs(protos, work):
    out = os.path.join(work, "py")
    os.makedirs(out, exist_ok=True)
    files = ["thanos/storepb/rpc.proto", "thanos/storepb/types.proto", "thanos/labelpb/types.proto",
             "prometheus/types.proto"]
    run = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", protos, f"--python_out={out}",
                          f"--grpc_python_out={out}"] + files, capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"grpc_tools.protoc: {run.stderr}")
    for d in ("thanos", "thanos/storepb", "thanos/labelpb", "prometheus"):
        open(os.path.join(out, d, "__init__.py"), "a").close()
    sys.path.insert(0, out)


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    protos, work, target, mint, maxt, mname, mregex = sys.argv[1:]
    stubs(protos, work)
    import grpc
    from thanos.storepb import rpc_pb2, rpc_pb2_grpc, types_pb2

    channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 1 << 30)])
    stub = rpc_pb2_grpc.StoreStub(channel)

    def series(**fields):
        """[(labels tuple, chunks tuple)], and the number of series in each response (batch or single)."""
        request = rpc_pb2.SeriesRequest(min_time=int(mint), max_time=int(maxt), matchers=[
            types_pb2.LabelMatcher(type=types_pb2.LabelMatcher.RE, name=mname, value=mregex)], **fields)
        out, frames = [], []
        for response in stub.Series(request, timeout=60):
            kind = response.WhichOneof("result")
            if kind == "series":
                group, batched = [response.series], False
            elif kind == "batch":
                group, batched = list(response.batch.series), True
            else:
                fail(f"unexpected {kind} response: {response}")
            frames.append((len(group), batched))
            for s in group:
                labels = tuple((l.name, l.value) for l in s.labels)
                chunks = tuple((c.min_time, c.max_time, c.raw.type, c.raw.data) for c in s.chunks)
                out.append((labels, chunks))
        return out, frames

    whole, frames = series()
    if len(whole) < 4 or any(batched or n != 1 for n, batched in frames):
        fail(f"the plain answer: {len(whole)} series in frames {frames[:5]}")
    labels = [l for l, _ in whole]
    if labels != sorted(labels, key=lambda ls: [(n.encode(), v.encode()) for n, v in ls]):
        fail("the plain answer is not sorted")
    print(f"plain: {len(whole)} series, one a response")

    for size in (1, 2, 3, 64, len(whole) + 5):
        got, frames = series(response_batch_size=size)
        if got != whole:
            fail(f"batch size {size}: answer differs from the plain one")
        want_batched = size > 1
        if any(batched != want_batched for _, batched in frames) or any(n > max(size, 1) for n, _ in frames):
            fail(f"batch size {size}: frames {frames}")
        if want_batched and any(n != size for n, _ in frames[:-1]):
            fail(f"batch size {size}: a batch other than the last is short: {frames}")
        print(f"batch {size}: {len(frames)} responses, same series")

    for limit in (1, 3):
        got, _ = series(limit=limit, response_batch_size=2)
        if got != whole[:limit]:
            fail(f"limit {limit}: got {[l for l, _ in got]}")
    print("limit: the first series of the sorted answer")

    for by, names in ((False, []), (True, ["job"]), (False, ["__name__", "replica"])):
        parts = []
        for index in range(3):
            got, _ = series(shard_info=rpc_pb2.ShardInfo(shard_index=index, total_shards=3, by=by, labels=names),
                            response_batch_size=64)
            for labels, _ in got:
                want = xxhash_reference.shard_of(labels, 3, by, names)
                if want != index:
                    fail(f"shard {index}/3 by={by} {names}: {labels} belongs to shard {want} by the reference hash")
            parts.append(got)
        union = sorted(s for part in parts for s in part)
        if union != sorted(whole):
            fail(f"shards by={by} {names}: the union of the 3 shards is not the whole answer")
        print(f"shards by={by} {names}: sizes {[len(p) for p in parts]}, disjoint, union whole, reference hash")

    got, _ = series(without_replica_labels=["replica"], response_batch_size=64)
    want = sorted(((tuple((n, v) for n, v in l if n != "replica"), c) for l, c in whole),
                  key=lambda s: [(n.encode(), v.encode()) for n, v in s[0]])
    if [l for l, _ in got] != [l for l, _ in want] or sorted(got) != sorted(want):
        fail(f"without_replica_labels: got {[l for l, _ in got][:4]}, want {[l for l, _ in want][:4]}")
    print("without_replica_labels: replica removed, still sorted")
    channel.close()
    print("ok")


if __name__ == "__main__":
    main()
