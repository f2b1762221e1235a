// SpoolDirectory+Backoff: a job whose render failed with an error that may pass (a full disk, a shared
// path gone for a while) is given back with processing/<id>/backoff.yaml: how many transient failures
// it had, the last error, and the time before which no daemon resumes it. The daemon decides what is
// transient and how long to wait; the spool only records it and keeps the job out of the queue until then.

import Foundation
import Jobs

/// The transient-failure record of a job (processing/<id>/backoff.yaml).
public struct Backoff: Sendable, Equatable {
    /// Transient failures so far.
    public var failures: Int
    /// The job is not resumed before this time.
    public var until: Date
    /// The last transient error.
    public var error: String

    /// A record of `failures` transient failures, the last with `error`; no resumption before `until`.
    public init(failures: Int, until: Date, error: String) {
        self.failures = failures
        self.until = until
        self.error = error
    }
}

extension SpoolDirectory {
    /// The transient-failure record of a claimed job, when it has one.
    public func backoff(of job: ClaimedJob) -> Backoff? { readBackoff(in: job.directory) }

    func readBackoff(in directory: URL) -> Backoff? {
        guard let fields = try? readResult(directory.appendingPathComponent(SpoolLayout.backoffFile)),
            let failures = fields["failures"]?.intValue,
            let until = fields["until"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        return Backoff(failures: failures, until: until, error: fields["error"]?.stringValue ?? "")
    }

    /// Records a transient failure and gives the job back: it is resumed (from its checkpoint) by any
    /// daemon once `backoff.until` has passed. Throws `leaseLost` when another process owns the job.
    public func postpone(_ job: ClaimedJob, _ backoff: Backoff) throws {
        try verifyOwnership(job)
        let fields: [(String, YAMLValue)] = [
            ("failures", .int(backoff.failures)), ("until", .string(Timestamp.format(backoff.until))),
            ("error", .string(backoff.error)),
        ]
        try FileOps.writeAtomically(
            Data(RecordYAML.emit(fields).utf8), to: job.directory.appendingPathComponent(SpoolLayout.backoffFile))
        try recordEvent(
            "transient_failure",
            [
                ("failures", .int(backoff.failures)), ("until", .string(Timestamp.format(backoff.until))),
                ("error", .string(backoff.error)),
            ], in: job.directory)
        try release(job)
    }
}
