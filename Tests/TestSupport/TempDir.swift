import Foundation
import SkiffCore

/// A fresh directory under the system temp dir (`/tmp/skiff-test-XXXXXX`) for one test.
public struct TempDir: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates the directory (`mkdtemp`, so parallel tests never share one).
    public init() throws {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/skiff-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SkiffError(.io, "create temp dir under \(base): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    /// The path of `name` inside the directory (not created: tests copy or create there).
    public func sub(_ name: String) -> String { path + "/" + name }

    /// Deletes the directory and everything in it; errors are ignored (it is only cleanup).
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
