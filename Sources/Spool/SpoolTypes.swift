// SpoolTypes: the plain values the spool hands out: configuration, queued and claimed jobs, progress,
// outcomes and the status snapshot for `skipdit status`.

import Foundation

/// Timing knobs of a spool.
public struct SpoolConfiguration: Sendable, Equatable {
    /// An incoming file is claimed only after its size and mtime stayed the same this long.
    public var stabilityInterval: TimeInterval
    /// A lease from another host whose heartbeat is older than this is dead.
    public var staleAfter: TimeInterval
    /// A job whose lease ended this many times without release (crash, kill -9) is failed; 0: never.
    public var maxAttempts: Int
    /// Remove checkpoint.bin when a job is done (it is render scratch state). A failed or cancelled
    /// job keeps it, so `skipdit retry` resumes from it.
    public var removeCheckpointWhenFinished: Bool

    /// Creates a configuration.
    public init(
        stabilityInterval: TimeInterval = 2, staleAfter: TimeInterval = 120, maxAttempts: Int = 10,
        removeCheckpointWhenFinished: Bool = true
    ) {
        self.stabilityInterval = stabilityInterval
        self.staleAfter = staleAfter
        self.maxAttempts = maxAttempts
        self.removeCheckpointWhenFinished = removeCheckpointWhenFinished
    }
}

/// A job waiting to run: a file in incoming/, or a released or abandoned job in processing/.
public struct QueuedJob: Sendable, Equatable {
    /// Where the job waits.
    public enum Location: Sendable, Equatable {
        /// A new job file in incoming/.
        case incoming
        /// A claimed job whose owner released it or died; it resumes from its checkpoint.
        case processing
    }
    /// The job id (the file stem for incoming files, the directory name in processing/).
    public var id: String
    /// The job file.
    public var file: URL
    /// Higher runs first.
    public var priority: Int
    /// The job file's modification time (kept by the renames): older runs first at equal priority.
    public var submitted: Date
    /// Where the job waits.
    public var location: Location
    /// True when `skipdit hold` holds it (listed by `status` only, never claimed).
    public var held = false
    /// The jobs of its `after:` list that are not done yet (it is not claimed while any is left).
    public var waitingFor: [String] = []
    /// After a transient failure: not resumed before this time.
    public var notBefore: Date?
    /// The transient failures so far and the last one's error.
    public var transientFailures = 0
    /// The last transient error, when there was one.
    public var lastTransientError: String?
    /// True when `skipdit priority` set `priority` (the job file says otherwise).
    public var priorityOverridden = false
}

/// A job this process has claimed; its directory stays at `directory` until `finish`.
public struct ClaimedJob: Sendable, Equatable {
    /// The unique job id (the directory name).
    public var id: String
    /// processing/<id>/
    public var directory: URL
    /// The job file's original name in incoming/.
    public var source: String
    /// The lease generation this process holds.
    public var generation: Int
    /// True when the job was taken over from a released or dead owner (look for a checkpoint).
    public var isResumed: Bool { generation > 1 }
    /// processing/<id>/job.yaml
    public var jobFile: URL { directory.appendingPathComponent(SpoolLayout.jobFile) }
}

/// How a job ended.
public enum JobOutcome: Sendable, Equatable {
    /// Rendered; the job goes to done/.
    case done
    /// Failed or cancelled; the job goes to failed/ with the reason.
    case failed(reason: String)
}

/// What `cancel` did.
public enum CancelOutcome: Sendable, Equatable {
    /// The job was queued (or its owner was gone) and is now in this directory under failed/.
    case cancelled(URL)
    /// The job is running: a cancel request was left for its owner, which stops at the next step.
    case requested(jobID: String)
}

/// The progress of a running job (processing/<id>/progress.yaml).
public struct JobProgress: Sendable, Equatable {
    /// What the job does now ("load", "encode prompt", "denoise 2/3", "decode", "write").
    public var phase: String
    /// Steps done in this phase.
    public var step: Int
    /// Steps in this phase.
    public var totalSteps: Int
    /// Estimated seconds until the job ends, when known.
    public var etaSeconds: Double?
    /// Of the current video's steps so far, how many ran full and how many cached (Skip-Cache), when known.
    public var fullSteps: Int?
    public var cachedSteps: Int?
    /// When this progress was written.
    public var updated: Date

    /// Creates a progress record.
    public init(
        phase: String, step: Int, totalSteps: Int, etaSeconds: Double? = nil, fullSteps: Int? = nil,
        cachedSteps: Int? = nil, updated: Date = Date()
    ) {
        self.phase = phase
        self.step = step
        self.totalSteps = totalSteps
        self.etaSeconds = etaSeconds
        self.fullSteps = fullSteps
        self.cachedSteps = cachedSteps
        self.updated = updated
    }

    /// "step 12/50 (8 full, 4 cached)", or "" outside the steps of a phase.
    public var stepText: String {
        guard totalSteps > 0 else { return "" }
        var text = "step \(step)/\(totalSteps)"
        if let full = fullSteps, let cached = cachedSteps, cached > 0 { text += " (\(full) full, \(cached) cached)" }
        return text
    }
}

/// A job in processing/, seen by `status`.
public struct RunningJob: Sendable, Equatable {
    /// The job id.
    public var id: String
    /// The current lease (nil when unreadable).
    public var lease: Lease?
    /// Whether the owner is alive, released or dead.
    public var state: LeaseState
    /// The latest progress, if any.
    public var progress: JobProgress?
    /// True when a cancel request waits for the owner.
    public var cancelRequested: Bool
    /// True when a hold request waits for the owner (it stops at the next step boundary).
    public var holdRequested = false
}

/// The spool hold of `skipdit hold --all` (<root>/hold).
public struct SpoolHold: Sendable, Equatable {
    /// When it was set.
    public var since: Date?
    /// Who set it ("host pid N").
    public var by: String
}

/// What `hold` did.
public enum HoldOutcome: Sendable, Equatable {
    /// The job waits held (it was queued, or its owner is gone).
    case held(jobID: String)
    /// The job runs: its owner stops it at the next step boundary and keeps it held.
    case requested(jobID: String)
    /// It was held already.
    case alreadyHeld(jobID: String)
}

/// A job in done/ or failed/, seen by `status`.
public struct FinishedJob: Sendable, Equatable {
    /// The job id (the directory name).
    public var id: String
    /// Done, or failed with the reason.
    public var outcome: JobOutcome
    /// When it finished (from result.yaml).
    public var finished: Date?
    /// done/<id>/ or failed/<id>/
    public var directory: URL
}

/// A snapshot of the spool for `skipdit status`.
public struct SpoolStatus: Sendable, Equatable {
    /// Waiting jobs in the order they will run.
    public var queued: [QueuedJob]
    /// Jobs in processing/.
    public var running: [RunningJob]
    /// The most recently finished jobs, newest first.
    public var finished: [FinishedJob]
    /// Jobs held with `skipdit hold` that do not run (in claim order as if released).
    public var held: [QueuedJob] = []
    /// The spool hold, when set.
    public var spoolHold: SpoolHold?
}
