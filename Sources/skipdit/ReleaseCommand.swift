// skipdit release JOB|--all — a held job is queued again (a stopped render resumes from its checkpoint,
// to the same bits); --all releases the spool hold and every held job. Works with and without a daemon.

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Spool

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Queue a held job again (it resumes from its checkpoint), or release all.")

    @Argument(help: "The job id (`skipdit status` lists the held ones).")
    var job: String?

    @Flag(help: "Release the spool hold and every held job.")
    var all = false

    @Option(help: "The daemon configuration (names the spool).")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        if all == (job != nil) { throw ValidationError("give a job id or --all") }
    }

    func run() async throws {
        try await QueueCommandSupport.run(json: json) {
            let spool = try QueueCommandSupport.spool(config: config)
            guard let job else {
                let spoolWasHeld = try spool.releaseSpool()
                var released: [String] = []
                for id in try spool.heldJobIDs() {
                    if try spool.releaseHold(jobID: id) { released.append(id) }
                }
                var parts: [String] = []
                if spoolWasHeld { parts.append("released the spool hold") }
                parts.append(released.isEmpty ? "no job was held" : "released \(released.joined(separator: ", "))")
                return QueueCommandResult(
                    action: "release", state: "released", jobs: released, spoolHeld: false,
                    message: parts.joined(separator: "; "))
            }
            var result = QueueCommandResult(action: "release", job: job, message: "")
            if try spool.releaseHold(jobID: job) {
                result.state = "released"
                result.message = "released \(job): it is queued again"
                result.directory = spool.processing.appendingPathComponent(job).path
            } else {
                result.state = "not_held"
                result.message = "\(job) is not held"
                if spool.spoolHold() != nil { result.message += " (the spool is: `skipdit release --all`)" }
            }
            return result
        }
    }
}
