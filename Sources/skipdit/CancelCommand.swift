// skipdit cancel JOB — a queued job moves to failed/ at once with reason "cancelled"; a running one is
// asked to stop and its daemon moves it there at the next step boundary (--wait waits for that).

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Spool

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a queued or running job (it moves to failed/, reason \"cancelled\").")

    @Argument(help: "The job id (`skipdit status` lists them), or its file name in incoming/.")
    var job: String

    @Option(help: "The daemon configuration (names the spool).")
    var config: String = DaemonConfig.defaultPath

    @Option(help: "For a running job: wait up to this many seconds until it is in failed/ (0: do not wait).")
    var wait: Double = 0

    func run() async throws {
        let daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config), file: config)
        let spool = try SpoolAccess.open(daemonConfig)
        switch try spool.cancel(jobID: job) {
        case let .cancelled(directory):
            print("cancelled \(job): \(directory.path)")
        case let .requested(jobID):
            print("cancel requested: \(jobID) stops at its next step boundary")
            guard wait > 0 else { return }
            let deadline = Date().addingTimeInterval(wait)
            let running = spool.processing.appendingPathComponent(jobID)
            while FileManager.default.fileExists(atPath: running.path) {
                guard Date() < deadline else {
                    throw ValidationError("\(jobID) is still running after \(wait) s")
                }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            print("cancelled \(jobID)")
        }
    }
}
