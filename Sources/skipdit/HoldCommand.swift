// skipdit hold JOB|--all [--now] — a held queued job is not claimed; a held running job stops at its next
// step boundary with its checkpoint kept and waits (--wait waits for that). --all holds the spool: no
// daemon claims anything, the running renders go on unless --now holds each of them too.
// Works with and without a daemon (it acts on the spool; see README "Queue controls").

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Spool

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Hold a job (a running one stops at its next step, checkpoint kept), or the whole spool.")

    @Argument(help: "The job id (`skipdit status` lists them), or its file name in incoming/.")
    var job: String?

    @Flag(help: "Hold the spool: no daemon starts a job until `skipdit release --all`.")
    var all = false

    @Flag(help: "With --all: also stop the running jobs at their next step boundary (they are held).")
    var now = false

    @Option(help: "For a running job: wait up to this many seconds until it has stopped (0: do not wait).")
    var wait: Double = 0

    @Option(help: "The daemon configuration (names the spool).")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        if all == (job != nil) { throw ValidationError("give a job id or --all") }
        if now && !all { throw ValidationError("--now goes with --all (a single running job always stops)") }
    }

    func run() async throws {
        try await QueueCommandSupport.run(json: json) {
            let spool = try QueueCommandSupport.spool(config: config)
            guard let job else { return try holdAll(spool) }
            let id: String
            var result = QueueCommandResult(action: "hold", message: "")
            switch try spool.hold(jobID: job) {
            case let .held(jobID):
                (id, result.state, result.message) = (
                    jobID, "held", "held \(jobID): it is not started until `skipdit release \(jobID)`"
                )
            case let .alreadyHeld(jobID):
                (id, result.state, result.message) = (jobID, "already_held", "\(jobID) is held already")
            case let .requested(jobID):
                (id, result.state) = (jobID, "hold_requested")
                result.message = "hold requested: \(jobID) stops at its next step boundary, its checkpoint kept"
                if wait > 0 {
                    try await waitUntilStopped(jobID, spool: spool)
                    result.state = "held"
                    result.message += "\nheld \(jobID)"
                }
            }
            result.job = id
            result.directory = spool.processing.appendingPathComponent(id).path
            return result
        }
    }

    private func holdAll(_ spool: SpoolDirectory) throws -> QueueCommandResult {
        let set = try spool.holdSpool()
        var stopping: [String] = []
        if now {
            for id in try spool.runningJobIDs() {
                if case .requested = try spool.hold(jobID: id) { stopping.append(id) }
            }
        }
        var message = set ? "held the spool: no job starts until `skipdit release --all`" : "the spool is held already"
        message +=
            now ? (stopping.isEmpty ? "; no job is running" : "; stopping \(stopping.joined(separator: ", "))") : ""
        if !now, !(try spool.runningJobIDs()).isEmpty { message += "; the running jobs go on (--now stops them)" }
        return QueueCommandResult(
            action: "hold", state: set ? "held" : "already_held", jobs: stopping, spoolHeld: true, message: message)
    }

    private func waitUntilStopped(_ jobID: String, spool: SpoolDirectory) async throws {
        let deadline = Date().addingTimeInterval(wait)
        while try spool.runningJobIDs().contains(jobID) {
            guard Date() < deadline else { throw ValidationError("\(jobID) is still running after \(wait) s") }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }
}
