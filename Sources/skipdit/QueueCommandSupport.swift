// QueueCommandSupport: what the queue-control commands (hold, release, retry, priority, logs) share:
// opening the configured spool, and printing a result as text or, with --json, as one JSON object
// (`{"ok": false, "error": "..."}` and exit status 1 on an error).

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Spool

/// The outcome of a queue-control command, for --json (keys in snake_case; unknown values left out).
struct QueueCommandResult: Encodable {
    var ok = true
    /// hold, release, retry, priority.
    var action: String
    /// The job acted on (nil for --all).
    var job: String?
    /// held, hold_requested, already_held, released, not_held, queued, ...
    var state: String?
    /// Jobs acted on (--all).
    var jobs: [String]?
    /// The spool hold after the command (--all).
    var spoolHeld: Bool?
    /// priority: the new value, the one before, and the job file's own.
    var priority: Int?
    var previousPriority: Int?
    var jobFilePriority: Int?
    /// Where the job is now.
    var directory: String?
    /// The text line printed without --json.
    var message: String
}

/// A failure in --json mode.
private struct QueueCommandError: Encodable {
    var ok = false
    var error: String
}

enum QueueCommandSupport {
    /// The spool of the configuration at `path`.
    static func spool(config path: String) throws -> SpoolDirectory {
        let config = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: path), file: path)
        return try SpoolAccess.open(config)
    }

    /// Runs `body` and prints its result (its message, or JSON); in --json mode an error is printed as
    /// JSON too and the command exits 1.
    static func run(json: Bool, _ body: () async throws -> QueueCommandResult) async throws {
        do {
            let result = try await body()
            print(json ? try JSONText.encode(result) : result.message + "\n", terminator: "")
        } catch let error where json && !(error is ExitCode) {
            print(try JSONText.encode(QueueCommandError(error: "\(error)")), terminator: "")
            throw ExitCode(1)
        }
    }
}
