import FlagParsing
import Logging
import SkiffCore

/// Thanos' Go runtime flags, which mean nothing to a Swift process: checked as Thanos checks
/// them, and one line at start says they have no effect.
enum GoRuntimeFlags {
    static func check(_ flags: ParsedFlags, logger: Logger) throws(SkiffError) {
        let text = flags.string("auto-gomemlimit.ratio")
        guard let ratio = Double(text), ratio > 0, ratio <= 1 else {
            throw SkiffError(
                .invalidArgument, "--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.")
        }
        if flags.isSet("enable-auto-gomemlimit") || flags.isSet("auto-gomemlimit.ratio") {
            logger.info(
                "--enable-auto-gomemlimit and --auto-gomemlimit.ratio tune Go's runtime and have no effect in Skiff")
        }
    }
}
