// skipdit serve — the render daemon (systemd runs it as Type=notify): watch the spool, render jobs one
// at a time, speak sd_notify. Everything lives in the Daemon target; this only parses options.

import ArgumentParser
import Daemon
import Jobs

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the render daemon on the configured spool.",
        discussion: """
            Jobs dropped into SPOOL/incoming/ are rendered one at a time (priority, then age) and moved to \
            done/ or failed/ with a result.yaml. SIGTERM stops the render at the next step boundary, saves \
            it and exits; the job resumes at the next start. SIGHUP reloads the configuration.
            """)

    @Option(help: "The daemon configuration.")
    var config: String = DaemonConfig.defaultPath

    @Option(help: ArgumentHelp("Testing only: seconds to wait at every sampler step.", visibility: .hidden))
    var testStepDelay: Double = 0

    @Flag(
        help: ArgumentHelp(
            "Testing only: die right after a Slurm submission, before recording it.", visibility: .hidden))
    var testCrashAfterSubmit = false

    @Flag(
        help: ArgumentHelp(
            "Testing only: write each video's final latents as <output>.latents.npy.", visibility: .hidden))
    var dumpLatents = false

    func run() async throws {
        let level = SkipditDaemon.bootstrapLogging()
        var options = DaemonOptions(
            configPath: config, version: SkipditVersion.string, stepDelay: testStepDelay, dumpsLatents: dumpLatents)
        options.crashAfterSubmit = testCrashAfterSubmit
        let daemon = try SkipditDaemon(options: options, logLevel: level)
        try await daemon.run()
    }
}
