import Foundation
import SkiffCore

extension WallClock {
    /// The machine's clock, rounded down to whole milliseconds.
    public static let system = WallClock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
