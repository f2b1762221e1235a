// SpoolAccess: how the daemon and the `status`/`cancel` commands open a configured spool and rank its
// jobs, so all of them see the same queue order.

import Foundation
import Jobs
import Logging
import Spool

/// Opens the spool of a configuration.
public enum SpoolAccess {
    /// The spool of `config` with the timing of its `daemon:` section; without a logger, only warnings
    /// and errors are logged (the `status` and `cancel` commands).
    public static func open(_ config: DaemonConfig, logger: Logger? = nil) throws -> SpoolDirectory {
        var quiet = Logger(label: "skipdit.spool")
        quiet.logLevel = .warning
        return try SpoolDirectory(
            root: config.spool, configuration: configuration(config.daemon), logger: logger ?? quiet)
    }

    /// The spool timing of a `daemon:` section.
    public static func configuration(_ d: DaemonSettings) -> SpoolConfiguration {
        SpoolConfiguration(
            stabilityInterval: d.stabilitySeconds, staleAfter: d.staleAfterSeconds, maxAttempts: d.maxAttempts)
    }

    /// The queue priority of a job file (its `priority:`; 0 when it does not parse: it fails when it runs).
    public static func priority(ofJobAt url: URL) -> Int {
        (try? JobSpec.load(contentsOf: url))?.priority ?? 0
    }

    /// The `after:` list of a job file (empty when it does not parse: it fails when it runs).
    public static func dependencies(ofJobAt url: URL) -> [String] {
        (try? JobSpec.load(contentsOf: url))?.after ?? []
    }
}
