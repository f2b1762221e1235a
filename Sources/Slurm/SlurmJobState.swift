// SlurmJobState: Slurm's job states (JOB_STATE_STRING in Slurm's slurm.h, as squeue and scontrol
// print them) sorted by what skipdit does about each: wait, count it done, retry it, or stop.

import Foundation

/// The state of one array task.
public enum SlurmJobState: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING", running = "RUNNING", suspended = "SUSPENDED", completing = "COMPLETING"
    case configuring = "CONFIGURING", requeued = "REQUEUED", requeueHold = "REQUEUE_HOLD"
    case requeueFed = "REQUEUE_FED", resizing = "RESIZING", signaling = "SIGNALING", stageOut = "STAGE_OUT"
    case resvDelHold = "RESV_DEL_HOLD", specialExit = "SPECIAL_EXIT", stopped = "STOPPED"
    case preempted = "PREEMPTED", revoked = "REVOKED", updateDB = "UPDATE_DB", powerUpNode = "POWER_UP_NODE"
    case completed = "COMPLETED", cancelled = "CANCELLED", failed = "FAILED", timeout = "TIMEOUT"
    case nodeFail = "NODE_FAIL", outOfMemory = "OUT_OF_MEMORY", bootFail = "BOOT_FAIL", deadline = "DEADLINE"

    /// Reads a state as Slurm prints it ("CANCELLED by 0" and "COMPLETED+" included).
    public init?(slurm text: String) {
        let word = text.split(separator: " ").first.map(String.init) ?? text
        self.init(rawValue: word.trimmingCharacters(in: CharacterSet(charactersIn: "+*")))
    }

    /// What the daemon makes of a state.
    public enum Meaning: Sendable, Equatable {
        /// Queued or running; wait.
        case inFlight
        /// Ended successfully.
        case completed
        /// Ended in a failure worth another attempt.
        case failed
        /// Cancelled (by skipdit, a user or an administrator).
        case cancelled
    }

    public var meaning: Meaning {
        switch self {
        case .completed: return .completed
        case .cancelled, .revoked: return .cancelled
        case .failed, .timeout, .nodeFail, .outOfMemory, .bootFail, .deadline, .specialExit: return .failed
        default: return .inFlight
        }
    }
}
