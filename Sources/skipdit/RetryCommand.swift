// skipdit retry JOB — a failed or cancelled job goes back into the queue with its history (leases,
// attempts, the earlier result as result.<n>.yaml, its log) and resumes from its checkpoint when it has
// one. A job whose file does not validate against the configuration is refused with the errors: fix
// failed/JOB/job.yaml, then retry. Works with and without a daemon.

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Render
import Spool

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue a failed or cancelled job again, its history kept (it resumes from its checkpoint).")

    @Argument(help: "The job id in failed/ (`skipdit status` lists recent ones).")
    var job: String

    @Option(help: "The daemon configuration (names the spool; the job file is validated against it).")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func run() async throws {
        try await QueueCommandSupport.run(json: json) {
            let daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config), file: config)
            let spool = try SpoolAccess.open(daemonConfig)
            let checked = ModelFileCheck.checked(daemonConfig)
            let directory = try spool.retry(jobID: job) { file in
                _ = try JobFile.validate(file, config: checked, file: file.path, jobName: job)
            }
            let resumes = FileManager.default.fileExists(
                atPath: directory.appendingPathComponent("checkpoint.bin").path)
            return QueueCommandResult(
                action: "retry", job: job, state: "queued", directory: directory.path,
                message: "retried \(job): queued again"
                    + (resumes ? ", it resumes from its checkpoint" : ", it starts from the beginning"))
        }
    }
}
