import SkiffCore
import TSDB

/// The local blocks seen by one scan.
struct LocalView: Sendable {
    var readable: [ULID: LocalBlock] = [:]
    var unreadable: [ULID: SkiffError] = [:]

    init(_ scanned: [ScannedBlock]) {
        for entry in scanned {
            switch entry {
            case .readable(let block): readable[block.meta.ulid] = block
            case .unreadable(let ulid, _, let error): unreadable[ulid] = error
            }
        }
    }

    func contains(_ ulid: ULID) -> Bool { readable[ulid] != nil || unreadable[ulid] != nil }
}
