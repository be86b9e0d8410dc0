import SkiffCore
import TSDB

/// The local blocks seen by one scan.
struct LocalView: Sendable {
    var readable: [ULID: LocalBlock] = [:]
    var unreadable: [ULID: SkiffError] = [:]
    /// Every block's dir, readable or not: where to look for an operator's fix.
    var dirs: [ULID: String] = [:]

    init(_ scanned: [ScannedBlock]) {
        for entry in scanned {
            switch entry {
            case .readable(let block):
                readable[block.meta.ulid] = block
                dirs[block.meta.ulid] = block.dir
            case .unreadable(let ulid, let dir, let error):
                unreadable[ulid] = error
                dirs[ulid] = dir
            }
        }
    }

    func contains(_ ulid: ULID) -> Bool { readable[ulid] != nil || unreadable[ulid] != nil }
}
