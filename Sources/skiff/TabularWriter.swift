import Foundation
import Ledger
import SkiffCore

/// Query results as text, produced row by row: CSV and JSON are ready to write after each row
/// (`takeOutput()`), so `skiff sql` prints as it reads and its memory stays flat; a table needs
/// every row for its column widths and holds at most `maxTableBytes` of cell text.
struct TabularWriter {
    static let maxTableBytes = 64 << 20

    let format: TabularFormat
    private var columns: [String] = []
    private var table: TextTable?
    private var tableBytes = 0
    private var rows = 0
    private var output: [UInt8] = []

    init(format: TabularFormat) { self.format = format }

    /// Text ready to be written; the writer forgets it.
    mutating func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    var pendingBytes: Int { output.count }

    mutating func begin(_ columns: [String]) {
        self.columns = columns
        switch format {
        case .table: table = TextTable(columns.map { $0.uppercased() })
        case .json: output.append(UInt8(ascii: "["))
        case .csv: append(columns.map(Self.csvField).joined(separator: ",") + "\r\n")
        }
    }

    mutating func add(_ row: [SQLValue]) throws(SkiffError) {
        defer { rows += 1 }
        switch format {
        case .table:
            let cells = row.map { Self.printable(Self.text($0)) }
            tableBytes += cells.reduce(0) { $0 + $1.utf8.count }
            guard tableBytes <= Self.maxTableBytes else {
                throw SkiffError(
                    .invalidArgument,
                    "the result is larger than \(Self.maxTableBytes >> 20) MiB, too big to lay out as a table: "
                        + "use --output csv or --output json, which print rows as they are read")
            }
            table?.add(cells)
        case .json:
            let object = JSONValue.object(zip(columns, row).map { .init($0, Self.json($1)) })
            // Indented as JSONValue.array(...).encodedIndented() would: one tab deeper per level.
            var text = object.encodedIndented()
            text.removeLast()  // its newline
            output.append(contentsOf: rows > 0 ? [UInt8(ascii: ","), 0x0A, 0x09] : [0x0A, 0x09])
            for byte in text {
                output.append(byte)
                if byte == 0x0A { output.append(0x09) }
            }
        case .csv:
            append(row.map { Self.csvField(Self.text($0)) }.joined(separator: ",") + "\r\n")
        }
    }

    mutating func finish() {
        switch format {
        case .table: if let table { append(table.render()) }
        case .json: output.append(contentsOf: rows > 0 ? [0x0A, UInt8(ascii: "]"), 0x0A] : [UInt8(ascii: "]"), 0x0A])
        case .csv: break
        }
    }

    private mutating func append(_ text: String) { output.append(contentsOf: text.utf8) }

    static func text(_ value: SQLValue) -> String {
        switch value {
        case .null: ""
        case .integer(let v): "\(v)"
        case .real(let v): "\(v)"
        case .text(let v): v
        case .blob(let v): String(decoding: v, as: UTF8.self)
        }
    }

    static func json(_ value: SQLValue) -> JSONValue {
        switch value {
        case .null: .null
        case .integer(let v): .int(v)
        case .real(let v): v.isFinite ? .number("\(v)") : .null
        case .text(let v): .string(v)
        case .blob(let v): .string(String(decoding: v, as: UTF8.self))
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A table cell as a terminal can show it: control characters (an ESC would recolour the
    /// terminal, a newline break the layout) written as Go escapes.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        return String(GoQuote.quote(text).dropFirst().dropLast())
    }
}
