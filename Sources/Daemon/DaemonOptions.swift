// DaemonOptions: how `skipdit serve` was started: the config file, the software version for result
// records, and two testing aids that stay out of normal operation (a per-step delay, so tests can
// interrupt a render mid-way, and a dump of the final latents, so they can compare renders bit for bit).

import Foundation

/// The start-up options of the daemon.
public struct DaemonOptions: Sendable {
    /// The daemon configuration file.
    public var configPath: String
    /// The software version written into result records.
    public var version: String
    /// Testing only: sleep this many seconds at every sampler step boundary (0: never).
    public var stepDelay: TimeInterval
    /// Testing only: write each video's final latents next to it as `<output>.latents.npy`.
    public var dumpsLatents: Bool
    /// Testing only: on the Slurm executor, die (SIGKILL) right after sbatch answered, before the
    /// answer is recorded — the window a restarted daemon must recover from without submitting twice.
    public var crashAfterSubmit = false
    /// The process environment (NOTIFY_SOCKET, WATCHDOG_USEC, JOURNAL_STREAM).
    public var environment: [String: String]

    /// Creates options; the testing aids are off by default.
    public init(
        configPath: String, version: String, stepDelay: TimeInterval = 0, dumpsLatents: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configPath = configPath
        self.version = version
        self.stepDelay = max(0, stepDelay)
        self.dumpsLatents = dumpsLatents
        self.environment = environment
    }
}
