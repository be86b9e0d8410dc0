extension Array where Element == UInt8 {
    /// `withUnsafeBytes` keeping the typed error: the standard library's version is `rethrows`,
    /// which widens any error to `any Error`.
    func withUnsafeBytesTyped<R>(_ body: (UnsafeRawBufferPointer) throws(PromWireError) -> R) throws(PromWireError) -> R {
        let result: Result<R, PromWireError> = withUnsafeBytes { raw in
            do throws(PromWireError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
