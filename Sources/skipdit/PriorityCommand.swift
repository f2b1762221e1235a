// skipdit priority JOB N — sets a waiting job's priority (higher runs first). The job file is not edited:
// the value goes into processing/JOB/priority.yaml and the history keeps the file's own value.
// Works with and without a daemon.

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Spool

struct PriorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority", abstract: "Change a queued job's priority (the job file's own value is kept).")

    @Argument(help: "The job id (`skipdit status` lists them), or its file name in incoming/.")
    var job: String

    // Captured this way so that a negative value (`-5`) is not taken for an option.
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp(
            "The new priority (\(JobLimits.priorityRange.lowerBound)...\(JobLimits.priorityRange.upperBound); higher runs first).",
            valueName: "priority"))
    var value: [String] = []

    /// The priority argument as a number (checked in `validate`).
    private var priority: Int { value.first.flatMap { Int($0) } ?? 0 }

    @Option(help: "The daemon configuration (names the spool).")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard value.count == 1, let number = Int(value[0]) else {
            throw ValidationError("give one priority, an integer (e.g. 10 or -5), after the job id")
        }
        guard JobLimits.priorityRange.contains(number) else {
            throw ValidationError("the priority must be in \(JobLimits.priorityRange); higher runs first, 0 is normal")
        }
    }

    func run() async throws {
        try await QueueCommandSupport.run(json: json) {
            let spool = try QueueCommandSupport.spool(config: config)
            let change = try spool.setPriority(
                jobID: job, to: priority, filePriority: SpoolAccess.priority(ofJobAt:))
            var message = "priority of \(change.jobID): \(change.previous) → \(change.priority)"
            if change.file != change.priority { message += " (the job file says \(change.file))" }
            if change.running { message += "; it runs now: the priority counts if it is queued again" }
            return QueueCommandResult(
                action: "priority", job: change.jobID, state: change.running ? "running" : "queued",
                priority: change.priority, previousPriority: change.previous, jobFilePriority: change.file,
                directory: spool.processing.appendingPathComponent(change.jobID).path, message: message)
        }
    }
}
