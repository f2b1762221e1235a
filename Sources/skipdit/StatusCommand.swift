// skipdit status — the queue (claim order), the running jobs with step k/N and ETA, held jobs, and recent
// results; --json prints the same as one JSON object (StatusJSON).

import ArgumentParser
import Daemon
import Foundation
import Jobs

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the queue, the running job with its progress, and recent results.")

    @Option(help: "The daemon configuration (names the spool).")
    var config: String = DaemonConfig.defaultPath

    @Option(help: "How many recent results to list.")
    var recent: Int = 10

    @Flag(help: "Print the snapshot as one JSON object.")
    var json = false

    func run() async throws {
        let daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config), file: config)
        let spool = try SpoolAccess.open(daemonConfig)
        let status = try spool.status(
            recent: max(0, recent), priority: SpoolAccess.priority(ofJobAt:),
            after: SpoolAccess.dependencies(ofJobAt:))
        if json {
            print(try StatusJSON(status, spool: spool.root).text(), terminator: "")
        } else {
            print(StatusReport.text(status, spool: spool.root), terminator: "")
        }
    }
}
