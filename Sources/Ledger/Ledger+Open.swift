import Foundation
import GRDB
import SkiffCore

/// Opening, creating and closing the ledger file, and SQLite's open errors in the operator's words.
extension Ledger {
    /// Opens (creating and migrating if needed) the ledger at `path`. Read-only opens never create
    /// or migrate, for the reporting commands. `LedgerPath` judges the path first, so a device,
    /// a FIFO, a Prometheus file or an emptied ledger is refused before SQLite touches it.
    public static func open(path: String, readOnly: Bool = false) throws(SkiffError) -> Ledger {
        let found = try LedgerPath.check(path, for: readOnly ? .read : .write)
        if found == .absent {
            if readOnly {
                throw SkiffError(.ledger, "no ledger at \(path): run `skiff ship` first, or pass the right --ledger.path")
            }
            try LedgerFile.create(path, configuration: configuration(readOnly: false))
        } else if let foreign = foreignTables(path: path) {
            // Judged read-only, before the pool: opening one switches the file to WAL mode.
            throw SkiffError(
                .ledger,
                "\(path) is a SQLite database but not a skiff ledger (it holds \(foreign)); skiff leaves it alone: "
                    + "point --ledger.path at the skiff ledger, or leave it unset for <tsdb.path>/thanos/skiff-ledger.db",
                transient: false)
        }
        let pool: DatabasePool
        do {
            pool = try openPool(path, configuration(readOnly: readOnly))
            let migrator = makeMigrator()
            let (superseded, complete) = try pool.read { db in
                (try migrator.hasBeenSuperseded(db), try migrator.hasCompletedMigrations(db))
            }
            if superseded {
                throw SkiffError(
                    .ledger,
                    "ledger \(path) was written by a newer skiff (this binary knows schema up to \(schemaName)); "
                        + "upgrade skiff, or point --ledger.path at another file", transient: false)
            }
            if !complete {
                if readOnly {
                    throw SkiffError(
                        .ledger, "ledger \(path) has an older schema: run `skiff ship` once to upgrade it",
                        transient: false)
                }
                try migrator.migrate(pool)
            }
        } catch let error as SkiffError {
            throw error
        } catch let error as DatabaseError {
            throw openError(path, error)
        } catch {
            throw SkiffError(.ledger, "open ledger \(path): \(error)", transient: false)
        }
        return Ledger(path: path, pool: pool)
    }

    /// A pool on `path` whose writer commits with `synchronous = FULL`. GRDB's pool turns WAL
    /// on after `prepareDatabase` ran, and sets its writer to NORMAL as it does: without FULL
    /// again here, a transition the shipper already acted on could be lost to a power cut.
    static func openPool(_ path: String, _ configuration: Configuration) throws -> DatabasePool {
        let pool = try DatabasePool(path: path, configuration: configuration)
        if !configuration.readonly {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        }
        return pool
    }

    static func configuration(readOnly: Bool) -> Configuration {
        var config = Configuration()
        config.readonly = readOnly
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "skiff-ledger"
        config.prepareDatabase { db in
            // FULL: a committed transition survives power loss, not just a process crash (the
            // pool's writer is set again in `openPool`, after GRDB's WAL setup).
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Statement journals and sorts in memory, never in SQLite's temp dir (/var/tmp, /tmp):
            // in a prometheus-operator pod the root filesystem is read-only and only the data dir
            // is writable. The ledger's statements are small, so this costs little memory.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return config
    }

    /// The tables of a database that is not a skiff ledger, described; nil for a ledger (of any
    /// schema version) or a database with no tables yet. Another program's database must not get
    /// skiff's tables migrated into it, nor be renamed by `ledger rebuild`.
    static func foreignTables(_ db: Database) throws -> String? {
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        guard !tables.isEmpty else { return nil }
        if tables.contains("grdb_migrations") {
            let first = embeddedMigrations[0].name
            let ours = try Bool.fetchOne(
                db, sql: "SELECT count(*) > 0 FROM grdb_migrations WHERE identifier = ?", arguments: [first])
            if ours == true { return nil }
        }
        let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", ..." : "")
        return "the table(s) \(shown)"
    }

    /// `foreignTables` of the database at `path`, read-only; nil when it is a ledger or cannot be
    /// read at all (a damaged ledger cannot show what it is).
    public static func foreignTables(path: String) -> String? {
        var config = Configuration()
        config.readonly = true
        guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return nil }
        defer { try? queue.close() }
        return (try? queue.read { db in try foreignTables(db) }) ?? nil
    }

    /// SQLite's open errors in the operator's words, naming the path; the "damaged" advice only
    /// for a file that is SQLite (LedgerPath checked its header) and fails as corrupt.
    static func openError(_ path: String, _ error: DatabaseError) -> SkiffError {
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return SkiffError(.ledger, corruptMessage(path, detail), transient: false)
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return SkiffError(
                .ledger,
                "ledger \(path) is not writable (SQLite: \(detail)): check the permissions and attributes (`lsattr`) of "
                    + "the file, its -wal and -shm files and its directory", transient: false)
        case .SQLITE_CANTOPEN, .SQLITE_IOERR:
            return SkiffError(
                .ledger,
                "ledger \(path) cannot be opened (SQLite: \(detail)): check that the file, its -wal and -shm files and "
                    + "its directory are readable and writable, and that it lies on a local filesystem", transient: false)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return SkiffError(
                .ledger, "ledger \(path) is locked by another process (SQLite: \(detail)); try again when it is done",
                transient: true)
        default:
            return SkiffError(.ledger, "open ledger \(path): \(detail)", transient: false)
        }
    }

    /// Folds the WAL into the file and closes the ledger's connections, so the file alone holds the
    /// whole ledger and can be linked or renamed (a new ledger, `ledger rebuild`'s swap). Closing
    /// alone would not do: the pool closes its writer before its read-only readers, and the last
    /// connection, read-only, leaves the WAL as it is.
    public func close() throws(SkiffError) {
        do { try Self.checkpointAndClose(pool) } catch { throw Self.map(error, "close ledger \(path)", path: path) }
    }

    static func checkpointAndClose(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try pool.close()
    }

    /// What to tell the operator about a damaged ledger file.
    public static func corruptMessage(_ path: String, _ problem: String) -> String {
        "ledger \(path) is damaged (\(problem)): stop skiff and run `skiff ledger rebuild --ledger.path \(path) "
            + "--tsdb.path ... --objstore.config-file ... --label ...` to recreate it from the bucket (the damaged file is kept)"
    }

    static func makeMigrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in embeddedMigrations {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }
}
