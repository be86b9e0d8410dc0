import Foundation
import ObjectStorage
import SkiffCore

/// Refuses a FILESYSTEM bucket that is the data dir or lies inside it. There, Prometheus' own
/// `<ULID>/meta.json` reads as a shipped block (every block "adopted", nothing shipped, and
/// `thanos.shipper.json` telling Prometheus they are safe to compact), and uploads would write
/// into Prometheus' directories, which Skiff never does.
///
/// A bucket directory that contains the data dir is allowed: Skiff only writes under `<ULID>/`
/// keys at the bucket's top, which never reach the data dir (it sits under a non-ULID name), as
/// Thanos allows it. Unless the objstore `prefix` points into it: then the effective root is
/// checked, so both paths are compared after resolving symlinks and `..`.
public enum BucketPlacement {
    public static func check(_ bucket: any Bucket, tsdbPath: String) throws(SkiffError) {
        guard let root = filesystemRoot(bucket), let data = resolved(tsdbPath), let objects = resolved(root) else { return }
        let inside = objects == data || objects.hasPrefix(data.hasSuffix("/") ? data : data + "/")
        guard inside else { return }
        throw SkiffError(
            .invalidArgument,
            "bucket directory \(root) "
                + (objects == data
                    ? "is the data dir --tsdb.path \(tsdbPath)" : "lies inside the data dir --tsdb.path \(tsdbPath)")
                + ": Prometheus' own blocks would pass for shipped ones; point config.directory (and prefix) "
                + "of --objstore.config-file outside \(tsdbPath)", transient: false)
    }

    /// The directory objects land in: the FILESYSTEM bucket's, plus any prefix; nil for others.
    static func filesystemRoot(_ bucket: any Bucket) -> String? {
        switch bucket {
        case let fs as FilesystemBucket: fs.directory
        case let instrumented as InstrumentedBucket: filesystemRoot(instrumented.base)
        case let prefixed as PrefixedBucket: filesystemRoot(prefixed.base).map { $0 + "/" + prefixed.prefix }
        default: nil
        }
    }

    /// The real path, following symlinks; for a path not there yet (a prefix dir), its existing
    /// ancestor's real path with the rest appended. Nil when nothing of it resolves.
    static func resolved(_ path: String) -> String? {
        var head = path
        var tail: [String] = []
        while true {
            if let real = realpath(head, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
            }
            guard head != "/", let slash = head.lastIndex(of: "/") else { return nil }
            tail.append(String(head[head.index(after: slash)...]))
            head = slash == head.startIndex ? "/" : String(head[..<slash])
        }
    }
}
