// StatusJSON: `skipdit status --json`, the same snapshot as StatusReport as one JSON object (keys sorted,
// times in ISO 8601 UTC, durations in seconds; a value that is not known is left out):
//
//   {"spool": "/var/spool/skipdit", "hold": {"since", "by"} (only while the spool is held),
//    "running": [{"id", "host", "pid", "phase", "step", "steps", "eta_seconds", "updated",
//                 "cancel_requested", "hold_requested"}],
//    "queued": [{"id", "priority", "priority_set", "submitted", "resumes", "after", "retry_at",
//                "transient_failures", "last_transient_error"}],
//    "held": [the same as queued],
//    "recent": [{"id", "status": "done" | "failed", "reason", "finished", "directory"}]}

import Foundation
import Spool

/// The JSON form of a spool snapshot.
public struct StatusJSON: Encodable {
    struct Hold: Encodable {
        var since: String?
        var by: String
    }

    struct Running: Encodable {
        var id: String
        var host: String?
        var pid: Int32?
        var phase: String?
        var step: Int?
        var steps: Int?
        var fullSteps: Int?
        var cachedSteps: Int?
        var etaSeconds: Double?
        var updated: String?
        var cancelRequested: Bool
        var holdRequested: Bool
    }

    struct Queued: Encodable {
        var id: String
        var priority: Int
        var prioritySet: Bool
        var submitted: String
        var resumes: Bool
        var after: [String]
        var retryAt: String?
        var transientFailures: Int
        var lastTransientError: String?
    }

    struct Finished: Encodable {
        var id: String
        var status: String
        var reason: String?
        var finished: String?
        var directory: String
    }

    var spool: String
    var hold: Hold?
    var running: [Running]
    var queued: [Queued]
    var held: [Queued]
    var recent: [Finished]

    /// The snapshot of `status` for the spool at `spool`.
    public init(_ status: SpoolStatus, spool: URL) {
        self.spool = spool.path
        hold = status.spoolHold.map { Hold(since: $0.since.map(Self.time), by: $0.by) }
        running = status.running.filter { $0.state == .alive || $0.state == .ours }.map { job in
            Running(
                id: job.id, host: job.lease?.owner.host, pid: job.lease?.owner.pid, phase: job.progress?.phase,
                step: job.progress.map(\.step), steps: job.progress.map(\.totalSteps),
                fullSteps: job.progress?.fullSteps, cachedSteps: job.progress?.cachedSteps, etaSeconds: job.progress?.etaSeconds, updated: job.progress.map { Self.time($0.updated) },
                cancelRequested: job.cancelRequested, holdRequested: job.holdRequested)
        }
        queued = status.queued.map(Self.queued)
        held = status.held.map(Self.queued)
        recent = status.finished.map { job in
            let reason: String?
            switch job.outcome {
            case .done: reason = nil
            case let .failed(text): reason = text
            }
            return Finished(
                id: job.id, status: reason == nil ? "done" : "failed", reason: reason,
                finished: job.finished.map(Self.time), directory: job.directory.path)
        }
    }

    private static func queued(_ job: QueuedJob) -> Queued {
        Queued(
            id: job.id, priority: job.priority, prioritySet: job.priorityOverridden, submitted: time(job.submitted),
            resumes: job.location == .processing, after: job.waitingFor, retryAt: job.notBefore.map(time),
            transientFailures: job.transientFailures, lastTransientError: job.lastTransientError)
    }

    /// ISO 8601 in UTC with milliseconds.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// The JSON text (one line, keys sorted, snake_case keys).
    public func text() throws -> String { try JSONText.encode(self) }
}

/// One-line JSON for the commands' `--json` output.
public enum JSONText {
    /// `value` as one line of JSON (keys sorted and in snake_case), ending in a newline.
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
