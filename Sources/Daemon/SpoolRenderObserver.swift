// SpoolRenderObserver: what a render running in the daemon reports and asks at every step: progress
// goes to processing/<id>/progress.yaml, to the log and to systemd's STATUS line; the resumable state
// goes to processing/<id>/checkpoint.bin; the step-boundary control answers stop (graceful shutdown or
// a lost lease, or `skipdit hold`) or cancel (`skipdit cancel`). Called on the render thread.

import Foundation
import Logging
import Render
import Spool

/// The daemon's `RenderObserver` for one claimed job.
final class SpoolRenderObserver: RenderObserver, @unchecked Sendable {
    private let context: DaemonContext
    private let spool: SpoolDirectory
    private let job: ClaimedJob
    private let logger: Logger
    private let stepDelay: TimeInterval

    private var lastPhase: String?
    private var lastLog = Date.distantPast
    private var lastStatus = Date.distantPast
    /// Checkpoints written for this job by this process.
    private(set) var checkpoints = 0

    /// Log a step at info level at most this often (phase changes are always logged).
    static let logInterval: TimeInterval = 10
    /// Update systemd's STATUS at most this often.
    static let statusInterval: TimeInterval = 1

    init(context: DaemonContext, spool: SpoolDirectory, job: ClaimedJob, logger: Logger, stepDelay: TimeInterval) {
        self.context = context
        self.spool = spool
        self.job = job
        self.logger = logger
        self.stepDelay = stepDelay
    }

    /// "denoising video 1/2", "decoding video 2/2", "loading".
    static func phaseText(_ p: RenderProgress) -> String {
        switch p.phase {
        case .loading, .done: return p.phase.rawValue
        default: return "\(p.phase.rawValue) video \(min(p.video + 1, p.videos))/\(p.videos)"
        }
    }

    /// "denoising video 1/2, step 3/50 (2 full, 1 cached), ETA 1m 20s".
    static func summary(_ p: RenderProgress) -> String {
        var text = phaseText(p)
        if p.phase == .denoising { text += ", " + record(p).stepText }
        if let eta = p.etaSeconds { text += ", ETA \(Durations.text(eta))" }
        return text
    }

    /// The progress file's record of `p`.
    static func record(_ p: RenderProgress) -> JobProgress {
        let denoising = p.phase == .denoising
        return JobProgress(
            phase: phaseText(p), step: denoising ? p.step : 0, totalSteps: denoising ? p.steps : 0,
            etaSeconds: p.etaSeconds, fullSteps: denoising ? p.fullSteps : nil,
            cachedSteps: denoising ? p.cachedSteps : nil)
    }

    func progress(_ p: RenderProgress) {
        let record = Self.record(p)
        let phase = record.phase
        do {
            try spool.writeProgress(record, for: job)
        } catch {
            logger.warning("cannot write the progress file: \(error)")
        }
        context.metrics.progressed(job.id, p, settings: context.config.metrics, logger: logger)
        let now = Date()
        let changed = phase != lastPhase
        lastPhase = phase
        let summary = Self.summary(p)
        if changed || now.timeIntervalSince(lastLog) >= Self.logInterval
            || (p.phase == .denoising && p.step == p.steps)
        {
            logger.info("\(summary)")
            lastLog = now
        } else {
            logger.debug("\(summary)")
        }
        if changed || now.timeIntervalSince(lastStatus) >= Self.statusInterval {
            context.notify { try $0.status("\(job.id): \(summary)") }
            lastStatus = now
        }
    }

    /// Writes the checkpoint. A write that fails (a full spool) does not stop the render: the
    /// checkpoint only shortens a resume, and resuming from an older one gives the same video.
    func save(_ state: RenderState) throws {
        do {
            try spool.writeCheckpoint(try state.encoded(), for: job)
        } catch {
            if case SpoolError.leaseLost = error { throw error }
            logger.warning(
                "checkpoint at video \(state.videoIndex + 1), step \(state.iteration) not saved (the render goes on; a resume starts from the last saved one): \(error)"
            )
            return
        }
        checkpoints += 1
        logger.debug("checkpoint at video \(state.videoIndex + 1), step \(state.iteration)")
    }

    func control() -> RenderControl {
        if stepDelay > 0 { pause(stepDelay) }
        if context.isStopping || context.isLeaseLost(job) || spool.isHoldRequested(job) { return .stop }
        if spool.isCancelRequested(job) { return .cancel }
        return .proceed
    }

    /// The testing delay: sleeps in short slices so a stop request still ends the render promptly.
    private func pause(_ seconds: TimeInterval) {
        let end = Date().addingTimeInterval(seconds)
        while !context.isStopping, Date() < end {
            Thread.sleep(forTimeInterval: min(0.01, max(0, end.timeIntervalSinceNow)))
        }
    }
}

/// Short human durations for logs and `skipdit status`.
enum Durations {
    /// "42s", "3m 05s", "2h 07m".
    static func text(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = max(0, Int(seconds.rounded()))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60)
    }
}
