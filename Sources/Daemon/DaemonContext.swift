// DaemonContext: the state the daemon's services share: the configuration (replaced on SIGHUP), the
// spool, the loaded-model cache, the jobs it owns (one rendering, or several on Slurm), and the stop request of a graceful shutdown.
// Every mutable field sits behind one lock; heartbeats and the end of a job (finish or release) are
// serialized by a second one so a heartbeat never races the job's move out of processing/.
// The configuration in force carries the result of the model file check (ModelFileCheck, at start-up
// and on reload): a model whose files are missing, unreadable or corrupt is refused on its own, its
// jobs fail with the problem, and the other models keep serving.

import Foundation
import Jobs
import Logging
import Render
import Spool

/// Shared daemon state (thread-safe).
final class DaemonContext: @unchecked Sendable {
    let options: DaemonOptions
    let notifier: SystemdNotifier
    let models = ModelCache()
    /// The `notify:` commands (run when a job ends and when the queue drains).
    let notifyCommands = NotifyCommands()
    /// The Prometheus metrics file (`metrics:`).
    let metrics: MetricsFile
    let logLevel: LogLevelSetting
    let logger: Logger

    private let lock = NSLock()
    private var currentConfig: DaemonConfig
    private var currentSpool: SpoolDirectory
    private var runningJobs: [String: ClaimedJob] = [:]
    private var stopping = false
    private var lostLeases: Set<String> = []
    private var reportedNotifyError = false
    private var spoolWatcher: SpoolWatcher?
    /// Held while heartbeating and while a job ends (finish, release), never during a render.
    private let jobLock = NSLock()

    init(options: DaemonOptions, config: DaemonConfig, logLevel: LogLevelSetting, logger: Logger) throws {
        self.options = options
        self.notifier = SystemdNotifier(environment: options.environment)
        self.metrics = MetricsFile(version: options.version)
        self.logLevel = logLevel
        self.logger = logger
        currentConfig = Self.checkModels(config, logger: logger)
        executor = config.executor
        slurmSlots = SlurmSlots(limit: config.executor.maxInFlight)
        currentSpool = try SpoolAccess.open(config, logger: logger)
    }

    /// The configuration in force.
    var config: DaemonConfig { lock.withLock { currentConfig } }
    /// The executor fixed at start-up (a reload does not switch it: jobs in flight stay where they are).
    let executor: ExecutorSettings
    /// `executor.max_in_flight`, shared by the jobs on Slurm.
    let slurmSlots: SlurmSlots
    /// The spool (rebuilt when a reload changes its timing).
    var spool: SpoolDirectory { lock.withLock { currentSpool } }

    // MARK: model files

    /// `config` with its model file check done; each unusable model is logged with its problem.
    static func checkModels(_ config: DaemonConfig, logger: Logger) -> DaemonConfig {
        let checked = ModelFileCheck.checked(config)
        for entry in checked.models {
            guard let problem = checked.modelProblems[entry.name] else { continue }
            let d = checked.diagnostic(for: problem)
            let place = d.line > 0 ? "\(d.file):\(d.line):\(d.column)" : d.file
            logger.error(
                "\(place): \(problem.message); hint: \(problem.hint). Jobs for '\(entry.name)' fail until it is fixed; the other models serve"
            )
        }
        return checked
    }

    /// The configuration for the next job. Models found unusable are checked again first (headers
    /// only, cheap), so one fixed on disk serves without a reload.
    func configForJob() -> DaemonConfig {
        let current = config
        guard !current.modelProblems.isEmpty else { return current }
        let problems = ModelFileCheck.problems(in: current, only: Set(current.modelProblems.keys))
        guard problems != current.modelProblems else { return current }
        for name in current.modelProblems.keys.sorted() where problems[name] == nil {
            logger.notice("model '\(name)' passes its file check now and serves again")
        }
        var updated = current
        updated.modelProblems = problems
        lock.withLock {
            // Unless a reload replaced the configuration meanwhile.
            if currentConfig == current { currentConfig.modelProblems = problems }
        }
        return updated
    }

    // MARK: stop request

    /// True once a graceful shutdown began: the render stops at its next step boundary.
    var isStopping: Bool { lock.withLock { stopping } }

    /// Begins the graceful shutdown (SIGTERM/SIGINT).
    func requestStop() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        logger.notice("shutting down: the running render stops at its next step boundary")
        notify { try $0.stopping(status: "stopping") }
    }

    // MARK: the running jobs

    /// The jobs this daemon owns now (one rendering locally; several tracked on Slurm).
    var currentJobs: [ClaimedJob] { lock.withLock { Array(runningJobs.values) } }

    /// True when a heartbeat found that another process took `job` over.
    func isLeaseLost(_ job: ClaimedJob) -> Bool { lock.withLock { lostLeases.contains(job.id) } }

    /// Marks `job` as running (heartbeats start).
    func begin(_ job: ClaimedJob) {
        lock.withLock {
            runningJobs[job.id] = job
            lostLeases.remove(job.id)
        }
    }

    /// Runs `body` (finish or release) while no heartbeat runs, then forgets `job`.
    func end<T>(_ job: ClaimedJob, _ body: () throws -> T) rethrows -> T {
        jobLock.lock()
        defer {
            lock.withLock {
                runningJobs[job.id] = nil
                lostLeases.remove(job.id)
            }
            jobLock.unlock()
        }
        return try body()
    }

    /// Refreshes the running jobs' leases; a lost lease makes that job's render or tracking stop.
    func heartbeat() {
        jobLock.lock()
        defer { jobLock.unlock() }
        for job in currentJobs {
            do {
                try spool.heartbeat(job)
            } catch SpoolError.leaseLost {
                lock.withLock { _ = lostLeases.insert(job.id) }
                logger.error(
                    "lost the lease of \(job.id) to another process; stopping its work", metadata: ["job": "\(job.id)"])
            } catch {
                logger.warning("heartbeat of \(job.id) failed: \(error)", metadata: ["job": "\(job.id)"])
            }
        }
    }

    // MARK: watcher

    /// The spool watcher, once the worker started it.
    var watcher: SpoolWatcher? {
        get { lock.withLock { spoolWatcher } }
        set { lock.withLock { spoolWatcher = newValue } }
    }

    // MARK: systemd

    /// Sends a notification; a failure is logged once, never fatal.
    func notify(_ send: (SystemdNotifier) throws -> Void) {
        do {
            try send(notifier)
        } catch {
            let first = lock.withLock {
                defer { reportedNotifyError = true }
                return !reportedNotifyError
            }
            if first { logger.warning("sd_notify failed (further failures are not logged): \(error)") }
        }
    }

    // MARK: reload (SIGHUP)

    /// Re-reads the config file; on an error the previous configuration stays in force.
    func reload() {
        notify { try $0.reloading() }
        defer { notify { try $0.ready(status: "configuration reloaded") } }
        let path = options.configPath
        let loaded: DaemonConfig
        do {
            loaded = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: path), file: path)
        } catch {
            logger.error("reload of \(path) failed; keeping the previous configuration:\n\(error)")
            return
        }
        let fresh = Self.checkModels(loaded, logger: logger)
        var accepted = fresh
        let old = config
        if fresh.spool.standardizedFileURL != old.spool.standardizedFileURL {
            logger.warning(
                "the spool moved to \(fresh.spool.path) in \(path); keeping \(old.spool.path) until the next restart")
            accepted.spool = old.spool
        }
        if fresh.executor != executor {
            logger.notice("executor settings take effect at the next restart")
        }
        if fresh.daemon.rescanSeconds != old.daemon.rescanSeconds {
            logger.notice("daemon.rescan_seconds takes effect at the next restart")
        }
        var rebuilt: SpoolDirectory?
        if SpoolAccess.configuration(accepted.daemon) != spool.configuration {
            do {
                rebuilt = try SpoolAccess.open(accepted, logger: logger)
            } catch {
                logger.error("reload: cannot reopen the spool with the new timing; keeping the old timing: \(error)")
                accepted.daemon = old.daemon
            }
        }
        lock.withLock {
            currentConfig = accepted
            if let rebuilt { currentSpool = rebuilt }
        }
        if accepted.models != old.models || accepted.compute != old.compute { models.removeAll() }
        if let level = LogLevelSetting.level(named: accepted.logging.level) { logLevel.level = level }
        let unusable = accepted.models.map(\.name).filter { accepted.modelProblems[$0] != nil }
        let refused = unusable.isEmpty ? "" : " (unusable: \(unusable.joined(separator: ", ")))"
        logger.notice(
            "reloaded \(path): \(accepted.models.count) model(s)\(refused), log level \(accepted.logging.level)")
        watcher?.poke()
    }
}
