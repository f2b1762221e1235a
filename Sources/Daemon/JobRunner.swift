// JobRunner: one claimed job from start to end: validate it against the configuration in force, resume
// its checkpoint if it has one, render it on the render thread (or, on the Slurm executor, hand it
// to SlurmJobTracker), and end it: finish into done/ or
// failed/ with its result record, release it (graceful shutdown or `skipdit hold`: it resumes later), postpone
// it after a transient failure (TransientFailure, `daemon.transient_retries`), or abandon it (another
// process took it over). A job whose `after:` jobs failed or do not exist fails with that reason. A bad
// job or a failed render fails the job, never the daemon; a job is never deleted. Everything logged
// about the job also goes to its job.log (JobLog).

import Foundation
import Jobs
import Logging
import Render
import Spool

struct JobRunner {
    let context: DaemonContext
    let spool: SpoolDirectory
    let job: ClaimedJob
    let logger: Logger
    /// On the Slurm executor: the slots of `max_in_flight` the worker took for this job (given back
    /// by its tracker when the job ends).
    let slurmSlots: Int
    /// processing/<id>/job.log, open for this attempt.
    private let jobLog: JobLogFile

    init(context: DaemonContext, spool: SpoolDirectory, job: ClaimedJob, slurmSlots: Int = 0) {
        self.context = context
        self.spool = spool
        self.job = job
        self.slurmSlots = slurmSlots
        var logger = context.logger
        logger[metadataKey: "job"] = "\(job.id)"
        jobLog = JobLogFile(directory: job.directory)
        self.logger = JobLogHandler.logger(logger, file: jobLog)
    }

    /// How the job ends.
    enum Ending {
        /// Move it to done/ or failed/ with this record; `failure` names the kind of error of a failed
        /// job for the metrics ("invalid_job", "model", "output", "slurm", ...; nil: "render").
        case finish(JobOutcome, YAMLValue, failure: String? = nil)
        /// Give it back with its checkpoint (graceful shutdown, a hold, a dependency not done yet).
        case release
        /// A transient failure: give it back with its checkpoint, not resumed before `backoff.until`.
        case postpone(Backoff)
        /// Another process owns it now: touch nothing.
        case abandon(String)
    }

    /// Runs the job to its end.
    func run() async {
        defer { jobLog.finish() }
        context.begin(job)
        context.notifyCommands.jobBegan()
        context.metrics.stateChanged(spool: spool, settings: context.config.metrics, logger: logger)
        let ending = await process()
        // Ending it writes to the spool. When that fails (a full or read-only spool), the job waits
        // in processing/ with its checkpoint and the daemon tries again, with a growing pause, until it
        // can or until it stops (then the next start resumes the job from its checkpoint).
        var pause: Duration = Self.firstEndRetry
        defer { context.metrics.stateChanged(spool: spool, settings: context.config.metrics, logger: logger) }
        while !end(ending) {
            if context.isStopping {
                logger.warning("stopping with the job still in processing/; the next start resumes it")
                context.metrics.left(job.id)
                return
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, Self.lastEndRetry)
        }
    }

    /// Pauses between attempts to end a job in the spool.
    static let firstEndRetry: Duration = .seconds(1)
    static let lastEndRetry: Duration = .seconds(60)

    /// Records the ending in the spool; false when the spool could not be written (try again).
    private func end(_ ending: Ending) -> Bool {
        context.end(job) {
            do {
                switch ending {
                case let .finish(outcome, record, failure):
                    let directory = try spool.finish(job, outcome: outcome, record: record)
                    switch outcome {
                    case .done: logger.notice("done → \(directory.path)")
                    case let .failed(reason): logger.warning("failed → \(directory.path): \(reason)")
                    }
                    announceEnd(outcome, failure: failure, directory: directory, record: record)
                case .release:
                    try spool.release(job)
                    context.metrics.left(job.id)
                    if spool.isHoldRequested(job) {
                        logger.notice(
                            "held: stopped with its checkpoint; `skipdit release \(job.id)` queues it again")
                    } else {
                        logger.notice("released at the step boundary; it resumes from its checkpoint at the next start")
                    }
                case let .postpone(backoff):
                    try spool.postpone(job, backoff)
                    context.metrics.left(job.id)
                    let wait = max(0, backoff.until.timeIntervalSinceNow)
                    logger.warning(
                        "transient failure \(backoff.failures) of \(context.config.daemon.transientRetries): queued again, resumed from its checkpoint in \(Durations.text(wait)): \(backoff.error)"
                    )
                    let context = self.context
                    Task {
                        try? await Task.sleep(nanoseconds: UInt64((wait + 0.05) * 1e9))
                        context.watcher?.poke()
                    }
                case let .abandon(reason):
                    context.metrics.left(job.id)
                    logger.warning("abandoned: \(reason)")
                }
            } catch SpoolError.leaseLost {
                logger.warning("another process took the job over while it ended; leaving it to that process")
            } catch {
                logger.error("cannot end the job in the spool (it waits in processing/, tried again soon): \(error)")
                return false
            }
            return true
        }
    }

    /// Counts a job that is now in done/ or failed/ in the metrics and runs the `notify: job_end` command.
    private func announceEnd(_ outcome: JobOutcome, failure: String?, directory: URL, record: YAMLValue) {
        let ending: JobEnding
        let reason: String?
        switch outcome {
        case .done: (ending, reason) = (.done, nil)
        case let .failed(text): (ending, reason) = (text == Self.cancelledReason ? .cancelled : .failed, text)
        }
        let videos = outcome == .done ? NotifyCommands.outputs(of: record).count : 0
        context.metrics.ended(job.id, ending: ending, videos: videos, failure: failure)
        context.notifyCommands.jobEnded(
            job.id, ending: ending, reason: reason, directory: directory, record: record,
            settings: context.config.notify, logger: logger)
    }

    /// The metrics' kind of a render error.
    static func failureKind(_ error: Error) -> String {
        switch error {
        case RenderError.model: return "model"
        case RenderError.output: return "output"
        case RenderError.unsupported: return "unsupported"
        case RenderError.badState: return "state"
        default: return "render"
        }
    }

    /// The back-off of the next transient retry, or nil when `daemon.transient_retries` are used up.
    private func nextBackoff(_ error: String, config: DaemonConfig) -> Backoff? {
        let failures = (spool.backoff(of: job)?.failures ?? 0) + 1
        guard failures <= config.daemon.transientRetries else { return nil }
        let seconds = config.daemon.transientBackoff(failures: failures)
        return Backoff(failures: failures, until: Date().addingTimeInterval(seconds), error: error)
    }

    /// Where the job's `after:` list stands (ready when it has none; a spool that cannot be read: wait).
    private func dependencies() -> DependencyState {
        let list = SpoolAccess.dependencies(ofJobAt: job.jobFile)
        guard !list.isEmpty else { return .ready }
        do {
            return try spool.dependencyState(of: job.id, after: list, reading: SpoolAccess.dependencies(ofJobAt:))
        } catch {
            logger.warning("cannot read the spool to check after: (it waits): \(error)")
            return .waiting(list)
        }
    }

    /// The failure reason of a cancelled job.
    static let cancelledReason = "cancelled"

    private func process() async -> Ending {
        let config = context.configForJob()
        let software = ResultRecord.software(version: context.options.version, compute: config.compute)
        logger.info("starting \(job.source), attempt \(job.generation)")
        if spool.isCancelRequested(job) {
            return .finish(.failed(reason: Self.cancelledReason), .mapping([("software", software)]))
        }
        if spool.isHoldRequested(job) { return .release }
        let plan: RenderPlan
        do {
            plan = try JobFile.validate(job.jobFile, config: config, file: job.source, jobName: job.id)
        } catch {
            logger.warning("invalid job:\n\(error)")
            return .finish(
                .failed(reason: "\(error)"), ResultRecord.invalid(error, software: software), failure: "invalid_job")
        }
        if context.isStopping { return .release }
        switch dependencies() {
        case .ready: break
        case let .waiting(ids):
            logger.notice("waits for \(ids.joined(separator: ", ")) (after:)")
            return .release
        case let .broken(reason):
            return .finish(
                .failed(reason: reason),
                ResultRecord.failed(
                    plan: plan, error: nil, start: ResultRecord.Start(attempt: job.generation, resumed: nil),
                    software: software), failure: "dependency")
        }
        if context.executor.kind == .slurm {
            logger.info("rendering \(plan.videos.count) video(s) with \(plan.model.name) on Slurm")
            let tracker = SlurmJobTracker(
                context: context, spool: spool, job: job, plan: plan, settings: context.executor, logger: logger,
                slots: slurmSlots)
            let ending = await tracker.run(
                start: ResultRecord.Start(attempt: job.generation, resumed: nil), software: software)
            if case let .finish(.failed(reason), _, _) = ending, TransientFailure.isSlurmCapacity(reason),
                let backoff = nextBackoff(reason, config: config)
            {
                return .postpone(backoff)
            }
            return ending
        }
        // An earlier attempt killed while it wrote a video or poster left that file's temp file behind.
        for url in RenderPipeline.removePartialOutputs(of: plan, writtenBy: spool.formerWriters(of: job)) {
            logger.notice("removed \(url.path), a partial output of an earlier attempt")
        }

        var resume: RenderState?
        do {
            if let data = try spool.readCheckpoint(for: job) { resume = try RenderState.decode(data) }
        } catch {
            logger.warning("ignoring an unreadable checkpoint (the render starts over): \(error)")
        }
        if let resume, resume.planDigest != RenderPipeline.digest(plan) {
            logger.warning("ignoring a checkpoint of other render parameters (the render starts over)")
        }
        let resumed = resume.flatMap { $0.planDigest == RenderPipeline.digest(plan) ? $0 : nil }
        let start = ResultRecord.Start(attempt: job.generation, resumed: resumed.map { ($0.videoIndex, $0.iteration) })
        if let resumed {
            logger.notice("resuming video \(resumed.videoIndex + 1)/\(plan.videos.count) at step \(resumed.iteration)")
        }
        let seeds = plan.videos.map { String($0.seed) }.joined(separator: ", ")
        logger.info(
            "rendering \(plan.videos.count) video(s) with \(plan.model.name): \(plan.sampler.rawValue), \(plan.steps) steps, guidance \(plan.guidance), seeds \(seeds)"
        )

        let pipeline = RenderPipeline(
            models: context.models, compute: config.compute, checkpointEvery: config.daemon.checkpointEvery)
        pipeline.dumpsLatents = context.options.dumpsLatents
        let observer = SpoolRenderObserver(
            context: context, spool: spool, job: job, logger: logger, stepDelay: context.options.stepDelay)
        let started = Date()
        do {
            let result = try await RenderThread.run(name: "skipdit.render") {
                try pipeline.render(plan: plan, resume: resumed, observer: observer)
            }
            let record = ResultRecord.done(
                plan: plan, result: result, output: config.output, start: start,
                wallSeconds: Date().timeIntervalSince(started), software: software)
            return .finish(.done, record)
        } catch RenderError.stopped {
            if context.isLeaseLost(job) { return .abandon("the lease was taken over") }
            return .release
        } catch RenderError.cancelled {
            return .finish(
                .failed(reason: Self.cancelledReason),
                ResultRecord.failed(plan: plan, error: nil, start: start, software: software))
        } catch SpoolError.leaseLost {
            return .abandon("the lease was taken over by another process")
        } catch {
            logger.error("render failed: \(error)")
            var reason = "\(error)"
            if TransientFailure.isTransient(error) {
                if let backoff = nextBackoff(reason, config: config) { return .postpone(backoff) }
                let limit = config.daemon.transientRetries
                if limit > 0 {
                    reason += " (a transient error; gave up after \(limit) retries, daemon.transient_retries)"
                }
            }
            return .finish(
                .failed(reason: reason),
                ResultRecord.failed(plan: plan, error: error, start: start, software: software),
                failure: Self.failureKind(error))
        }
    }
}
