#!/usr/bin/env python3
"""XXH64 and Thanos' shard assignment from the xxHash C reference library (libxxhash.so.0, the
Debian package libxxhash0), through ctypes: the reference Skiff's pure-Swift XXHash64 and its
ShardMatcher are checked against.

  xxhash_reference.py vectors   prints the Swift test vectors committed in
                                Tests/StoreLogicTests/XXHash64Tests.swift (input, then XXH64 seed 0)
  import xxhash_reference       xxh64(bytes) and shard_of(labels, index, total, by, names), as
                                Thanos' storepb.ShardMatcher: name 0xff value 0xff for each chosen
                                label, in label order; hash % total == index
"""
import ctypes, ctypes.util, sys


def _library():
    for name in ("libxxhash.so.0", ctypes.util.find_library("xxhash")):
        if name:
            try:
                lib = ctypes.CDLL(name)
                lib.XXH64.restype = ctypes.c_uint64
                lib.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
                return lib
            except OSError:
                continue
    sys.exit("xxhash_reference: libxxhash.so.0 not found: apt-get install -y libxxhash0")


_lib = _library()


def xxh64(data, seed=0):
    return _lib.XXH64(bytes(data), len(data), seed)


def shard_hash(labels, by, names):
    """labels: [(name, value)] sorted by name, as the series is sent."""
    buf = bytearray()
    for name, value in labels:
        if (name in names) == by:
            buf += name.encode() + b"\xff" + value.encode() + b"\xff"
    return xxh64(bytes(buf))


def shard_of(labels, total, by, names):
    return shard_hash(labels, by, set(names)) % total


PATTERN = bytes((i * 7 + 3) % 256 for i in range(1100))   # pattern(n) in the Swift test: its first n bytes


def _vector_inputs():
    for literal in (b"", b"a", b"abc", b"__name__\xffup\xffcluster\xfftest\xff", "région\xffé".encode()):
        yield f"{list(literal)}", literal
    for n in (1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 35, 63, 64, 65, 100, 1000, 1100):
        yield f"pattern({n})", PATTERN[:n]


if __name__ == "__main__":
    if sys.argv[1:] != ["vectors"]:
        sys.exit(__doc__)
    for swift, data in _vector_inputs():
        print(f"        ({swift}, 0x{xxh64(data):016X}),")
