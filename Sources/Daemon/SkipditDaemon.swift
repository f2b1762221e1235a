// SkipditDaemon: `skipdit serve` as a swift-service-lifecycle ServiceGroup of three services: the
// heartbeat/watchdog ticker, the SIGHUP reloader and the worker (watch, claim, render, finish).
// SIGTERM and SIGINT shut the group down gracefully, in reverse order: the worker stops its render at
// the next step boundary, checkpoints and releases the job, then the others end and the process exits 0.

import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Slurm

/// The render daemon.
public final class SkipditDaemon: Sendable {
    private let context: DaemonContext

    /// Loads the configuration (throws `JobError` with file:line:column), checks its model files (a
    /// model that fails is refused on its own, see ModelFileCheck) and opens the spool.
    /// Call `SkipditDaemon.bootstrapLogging` once before, so the daemon's logs go to stderr.
    public init(options: DaemonOptions, logLevel: LogLevelSetting) throws {
        let path = options.configPath
        let config = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: path), file: path)
        if let level = LogLevelSetting.level(named: config.logging.level) { logLevel.level = level }
        // Slurm mode without the Slurm client programs cannot work: refuse to start, saying so.
        if config.executor.kind == .slurm { try SlurmController().checkInstalled() }
        let logger = Logger(label: "skipdit")
        context = try DaemonContext(options: options, config: config, logLevel: logLevel, logger: logger)
    }

    /// Routes swift-log to stderr in the daemon's format (journald's when $JOURNAL_STREAM is set).
    /// Call once per process; returns the level setting that reloads change.
    public static func bootstrapLogging(
        level: Logger.Level = .info, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> LogLevelSetting {
        let setting = LogLevelSetting(level)
        let journal = environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, setting: setting, journal: journal) }
        return setting
    }

    /// Runs until SIGTERM/SIGINT (returns normally) or a service fails (throws).
    public func run() async throws {
        let context = self.context
        let config = context.config
        context.logger.notice(
            "skipdit \(context.options.version) serving \(config.spool.path) (pid \(ProcessInfo.processInfo.processIdentifier))"
        )
        let unusable = config.models.map(\.name).filter { config.modelProblems[$0] != nil }
        if !unusable.isEmpty {
            context.logger.warning(
                "unusable model(s), refused until fixed: \(unusable.joined(separator: ", ")); serving the other \(config.models.count - unusable.count)"
            )
        }
        if context.executor.kind == .slurm {
            let e = context.executor
            context.logger.notice(
                "executor: slurm (partition \(e.partition ?? "default"), \(e.cpusPerTask) CPU(s) per task, at most \(e.maxInFlight) task(s) at once)"
            )
        }
        if context.options.stepDelay > 0 {
            context.logger.warning("testing aid on: every sampler step waits \(context.options.stepDelay) s")
        }
        let reload = ReloadService(context: context)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: HeartbeatService(context: context)),
                    .init(service: reload),
                    .init(
                        service: WorkerService(context: context), successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: context.logger))
        try await group.run()
        context.logger.notice("stopped")
    }
}
