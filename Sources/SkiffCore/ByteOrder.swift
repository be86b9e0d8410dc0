/// Byte-wise (UTF-8) string comparison, the order Go's `<` and `==` on strings use.
///
/// Swift's `String` comparison works on canonical equivalence: `"é" == "e\u{301}"` is true and the
/// order of non-NFC strings is that of their normalised forms. Prometheus compares raw bytes, so
/// everything that must agree with it (label order, equality, matcher values) goes through here.
/// Pure standard library (no `memcmp`): `SkiffCore` imports nothing. Inlinable, because the
/// StoreAPI's re-sorter compares labels through it for every series.
@usableFromInline
package enum ByteOrder {
    /// Negative, zero or positive as `a` sorts before, equal to or after `b` byte-wise.
    @inlinable @inline(__always)
    package static func compare(_ a: String, _ b: String) -> Int {
        if identical(a, b) { return 0 }
        // Non-mutating, copy-free access for native and small strings (all of ours on Linux).
        let fast = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb in compare(pa, pb) }
        }
        if let fast, let result = fast { return result }
        return slowCompare(a, b)
    }

    /// Same representation, so same bytes: label names are mostly small strings (up to 15 UTF-8
    /// bytes are stored inline), and equal ones then compare in one step, without touching bytes.
    /// (This relies on `String` being two words, checked here; elsewhere it returns false.)
    @usableFromInline @inline(__always)
    static func identical(_ a: String, _ b: String) -> Bool {
        guard MemoryLayout<String>.size == 16 else { return false }
        return unsafeBitCast(a, to: (UInt64, UInt64).self) == unsafeBitCast(b, to: (UInt64, UInt64).self)
    }

    /// `memcmp`'s order (its sign only) in pure Swift: eight bytes a step, read big-endian so that
    /// the first differing byte decides, then the tail byte by byte; a prefix sorts first.
    @inlinable @inline(__always)
    package static func compare(_ pa: UnsafeBufferPointer<UInt8>, _ pb: UnsafeBufferPointer<UInt8>) -> Int {
        let n = Swift.min(pa.count, pb.count)
        if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
            let rx = UnsafeRawPointer(x)
            let ry = UnsafeRawPointer(y)
            var i = 0
            while n - i >= 8 {
                let wa = UInt64(bigEndian: rx.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let wb = UInt64(bigEndian: ry.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if wa != wb { return wa < wb ? -1 : 1 }
                i += 8
            }
            while i < n {
                if x[i] != y[i] { return Int(x[i]) - Int(y[i]) }
                i += 1
            }
        }
        return pa.count - pb.count
    }

    @usableFromInline
    static func slowCompare(_ a: String, _ b: String) -> Int {
        var a = a
        var b = b
        return a.withUTF8 { pa in b.withUTF8 { pb in compare(pa, pb) } }
    }

    @inlinable @inline(__always)
    package static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && compare(a, b) == 0
    }

    @inlinable @inline(__always)
    package static func less(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }

    package static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        s.utf8.count >= prefix.utf8.count && s.utf8.starts(with: prefix.utf8)
    }

    package static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        let n = suffix.utf8.count
        return s.utf8.count >= n && s.utf8.suffix(n).elementsEqual(suffix.utf8)
    }

    /// True if `needle` occurs in `s`. A match of valid UTF-8 inside valid UTF-8 always starts on a
    /// character boundary (UTF-8 is self-synchronising), so a byte search is a character search.
    package static func contains(_ s: String, _ needle: String) -> Bool {
        var s = s
        var needle = needle
        return s.withUTF8 { hay in
            needle.withUTF8 { pin in
                guard pin.count > 0 else { return true }
                guard hay.count >= pin.count else { return false }
                let first = pin[0]
                var i = 0
                while i <= hay.count - pin.count {
                    if hay[i] == first, compare(UnsafeBufferPointer(rebasing: hay[i..<i + pin.count]), pin) == 0 {
                        return true
                    }
                    i += 1
                }
                return false
            }
        }
    }
}

/// A string key with Go's byte-wise equality, for sets of literal values.
///
/// Hashing reuses `String`'s hash: byte-equal strings are canonically equal, so they hash alike.
package struct BytewiseKey: Hashable, Sendable {
    package let string: String
    package init(_ string: String) { self.string = string }
    package static func == (a: Self, b: Self) -> Bool { ByteOrder.equal(a.string, b.string) }
    package func hash(into hasher: inout Hasher) { hasher.combine(string) }
}
