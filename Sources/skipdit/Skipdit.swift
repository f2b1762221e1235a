// The skipdit command line: a thin layer over the library targets. One file per command.

import ArgumentParser
import Foundation
import TensorCore

@main
enum Entry {
    static func main() async {
        OpenMPWaitPolicy.ensurePassive()
        // A write past a file-size limit (RLIMIT_FSIZE, e.g. set by systemd's LimitFSIZE=) fails with
        // EFBIG and becomes a job's clear error, instead of killing the daemon with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        await Skipdit.main()
    }
}

struct Skipdit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skipdit",
        abstract: "Render videos with Skip-DiT (Latte + Skip-Cache) from YAML jobs in a spool directory.",
        version: SkipditVersion.string,
        subcommands: [
            ServeCommand.self, RenderCommand.self, ValidateCommand.self, StatusCommand.self, CancelCommand.self,
            HoldCommand.self, ReleaseCommand.self, RetryCommand.self, PriorityCommand.self, LogsCommand.self,
            ConformanceCommand.self, BenchCommand.self, EncodeCommand.self, SlurmTaskCommand.self,
        ])
}

enum SkipditVersion {
    static let string = "0.1.0"
}
