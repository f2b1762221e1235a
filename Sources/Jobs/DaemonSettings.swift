// DaemonSettings: the `daemon:` section of the config: how often `skipdit serve` rescans the spool,
// how long an incoming file must be stable, the lease heartbeat and staleness, how often a render
// checkpoints, and the crash-loop guard. All optional; the defaults suit a queue of long renders.

/// `daemon:` settings (timing knobs of `skipdit serve`).
public struct DaemonSettings: Sendable, Codable, Equatable {
    /// Seconds between full rescans of incoming/ (inotify sees local changes at once; NFS needs rescans).
    public var rescanSeconds: Double = 30
    /// An incoming job file is claimed once its size and mtime stayed the same this many seconds.
    public var stabilitySeconds: Double = 2
    /// Seconds between lease heartbeats of the running job.
    public var heartbeatSeconds: Double = 10
    /// A lease of another host whose heartbeat is older than this many seconds is dead.
    public var staleAfterSeconds: Double = 120
    /// Save the render state (latents, noise position, Skip-Cache) every this many sampler steps.
    public var checkpointEvery: Int = 5
    /// A job whose render died this many times (crash, kill -9, reboot) is failed; 0: never.
    public var maxAttempts: Int = 10
    /// A render that fails with an error that may pass (full disk, shared path gone, Slurm at capacity)
    /// is queued again this many times, with a back-off, before the job fails; 0: fail at once.
    public var transientRetries: Int = 0
    /// The first back-off after a transient failure; it doubles with each further one.
    public var transientBackoffSeconds: Double = 60
    /// The longest back-off.
    public var transientBackoffMaxSeconds: Double = 3600

    /// The back-off before the `failures`-th transient retry (1-based): doubling, capped.
    public func transientBackoff(failures: Int) -> Double {
        let doubled = transientBackoffSeconds * Double(1 << min(30, max(0, failures - 1)))
        return min(doubled, max(transientBackoffSeconds, transientBackoffMaxSeconds))
    }

    /// The defaults above.
    public init() {}

    static let keys = [
        "rescan_seconds", "stability_seconds", "heartbeat_seconds", "stale_after_seconds", "checkpoint_every",
        "max_attempts", "transient_retries", "transient_backoff_seconds", "transient_backoff_max_seconds",
    ]

    /// Reads a `daemon:` mapping; problems go to the reader's sink.
    static func read(_ node: YAMLNode, reader: NodeReader) -> DaemonSettings {
        var settings = DaemonSettings()
        guard let m = reader.mapping(node, known: keys, what: "'daemon'") else { return settings }
        let seconds: [(String, WritableKeyPath<DaemonSettings, Double>, ClosedRange<Double>)] = [
            ("rescan_seconds", \.rescanSeconds, 0.01...86_400), ("stability_seconds", \.stabilitySeconds, 0...3600),
            ("heartbeat_seconds", \.heartbeatSeconds, 0.01...3600),
            ("stale_after_seconds", \.staleAfterSeconds, 1...86_400),
            ("transient_backoff_seconds", \.transientBackoffSeconds, 0...86_400),
            ("transient_backoff_max_seconds", \.transientBackoffMaxSeconds, 0...604_800),
        ]
        for (key, path, range) in seconds {
            if let n = m[key], let v = reader.double(n.value, key: key, in: range) { settings[keyPath: path] = v }
        }
        if let n = m["checkpoint_every"],
            let v = reader.int(n.value, key: "checkpoint_every", in: 1...JobLimits.trainingTimesteps)
        {
            settings.checkpointEvery = v
        }
        if let n = m["max_attempts"], let v = reader.int(n.value, key: "max_attempts", in: 0...1000, hint: "0: never") {
            settings.maxAttempts = v
        }
        if let n = m["transient_retries"],
            let v = reader.int(n.value, key: "transient_retries", in: 0...1000, hint: "0: a failure is final at once")
        {
            settings.transientRetries = v
        }
        if settings.staleAfterSeconds < 2 * settings.heartbeatSeconds {
            reader.sink.error(
                (m["stale_after_seconds"] ?? m["heartbeat_seconds"])?.value.mark ?? node.mark,
                "'stale_after_seconds' (\(YAMLWriter.double(settings.staleAfterSeconds))) must be at least twice "
                    + "'heartbeat_seconds' (\(YAMLWriter.double(settings.heartbeatSeconds)))",
                hint: "otherwise a live daemon on another host can look dead between two heartbeats")
        }
        return settings
    }
}
