// SpoolDirectory+Job: what the owner of a claimed job does with it: heartbeat, progress, checkpoint,
// cancel polling, finishing into done/ or failed/, and releasing it on shutdown.
//
// Finishing: result.yaml is written atomically into processing/<id>/ first, then the checkpoint is
// removed, then the directory is renamed to done/<id> or failed/<id> (suffix on clash). A crash in
// between leaves a result.yaml in processing/, and recovery completes the move.
// Releasing (SIGTERM): the owner writes its last checkpoint, then rewrites its lease with
// `released: true`. The job stays in processing/<id>/ with its checkpoint; the next claimNext of any
// daemon (this one after a restart, or another) takes it over at once and resumes it.

import Foundation
import Jobs

extension SpoolDirectory {
    /// The highest lease generation in a job directory (0 when none).
    private func currentGeneration(_ directory: URL) throws -> Int {
        try FileOps.list(directory).compactMap(SpoolLayout.leaseGeneration).max() ?? 0
    }

    /// Throws `leaseLost` unless this process still holds the job's current lease.
    public func verifyOwnership(_ job: ClaimedJob) throws {
        let current: Int
        do {
            current = try currentGeneration(job.directory)
        } catch SpoolError.system(_, _, ENOENT) {
            throw SpoolError.leaseLost(jobID: job.id, path: job.directory.path)
        }
        if current != job.generation {
            throw SpoolError.leaseLost(jobID: job.id, path: job.directory.path)
        }
    }

    private func writeLease(_ job: ClaimedJob, released: Bool) throws {
        try verifyOwnership(job)
        let url = job.directory.appendingPathComponent(SpoolLayout.leaseFile(job.generation))
        guard let data = try FileOps.readFile(url) else {
            throw SpoolError.leaseLost(jobID: job.id, path: url.path)
        }
        var lease = try Lease.decode(data, path: url.path)
        if lease.released {  // given back: a late heartbeat must not take it again
            throw SpoolError.leaseLost(jobID: job.id, path: url.path)
        }
        lease.heartbeat = Date()
        lease.released = released
        try FileOps.writeAtomically(lease.encoded(), to: url)
    }

    /// Refreshes the lease's heartbeat (call every few seconds, well within `staleAfter`).
    /// Throws `leaseLost` when another process took the job over (or it was released): stop working on it.
    public func heartbeat(_ job: ClaimedJob) throws {
        try writeLease(job, released: false)
    }

    /// Writes processing/<id>/progress.yaml atomically.
    public func writeProgress(_ progress: JobProgress, for job: ClaimedJob) throws {
        var fields: [(String, YAMLValue)] = [
            ("phase", .string(progress.phase)),
            ("step", .int(progress.step)),
            ("total_steps", .int(progress.totalSteps)),
        ]
        if let eta = progress.etaSeconds { fields.append(("eta_seconds", .double(eta))) }
        if let full = progress.fullSteps { fields.append(("full_steps", .int(full))) }
        if let cached = progress.cachedSteps { fields.append(("cached_steps", .int(cached))) }
        fields.append(("updated", .string(Timestamp.format(progress.updated))))
        let url = job.directory.appendingPathComponent(SpoolLayout.progressFile)
        try FileOps.writeAtomically(Data(RecordYAML.emit(fields).utf8), to: url)
    }

    /// Reads the progress of a job directory, if any.
    func readProgress(in directory: URL) -> JobProgress? {
        let url = directory.appendingPathComponent(SpoolLayout.progressFile)
        guard let data = try? FileOps.readFile(url), let text = String(data: data, encoding: .utf8),
            let fields = try? RecordYAML.readTopLevel(text, path: url.path),
            let phase = fields["phase"]?.stringValue, let step = fields["step"]?.intValue,
            let total = fields["total_steps"]?.intValue
        else { return nil }
        let updated = fields["updated"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
        return JobProgress(
            phase: phase, step: step, totalSteps: total, etaSeconds: fields["eta_seconds"]?.doubleValue,
            fullSteps: fields["full_steps"]?.intValue, cachedSteps: fields["cached_steps"]?.intValue, updated: updated)
    }

    /// Stores the job's resumable render state atomically (processing/<id>/checkpoint.bin).
    /// Throws `leaseLost` when another process took the job over.
    public func writeCheckpoint(_ data: Data, for job: ClaimedJob) throws {
        try verifyOwnership(job)
        try FileOps.writeAtomically(data, to: job.directory.appendingPathComponent(SpoolLayout.checkpointFile))
    }

    /// The job's last checkpoint, or nil when it has none (a fresh job).
    public func readCheckpoint(for job: ClaimedJob) throws -> Data? {
        try FileOps.readFile(job.directory.appendingPathComponent(SpoolLayout.checkpointFile))
    }

    /// Writes a record of the job's executor (e.g. slurm.json) atomically into processing/<id>/.
    /// Throws `leaseLost` when another process took the job over.
    public func writeJobRecord(_ data: Data, named name: String, for job: ClaimedJob) throws {
        try verifyOwnership(job)
        try FileOps.writeAtomically(data, to: job.directory.appendingPathComponent(name))
    }

    /// A record of the job's executor, or nil when there is none.
    public func readJobRecord(named name: String, for job: ClaimedJob) throws -> Data? {
        try FileOps.readFile(job.directory.appendingPathComponent(name))
    }

    /// True when `skipdit cancel` asked this job to stop (poll at step boundaries).
    public func isCancelRequested(_ job: ClaimedJob) -> Bool {
        FileOps.lstatInfo(job.directory.appendingPathComponent(SpoolLayout.cancelFile)) != nil
    }

    /// True when a cancel request waits for the running job `jobID`.
    public func isCancelRequested(jobID: String) -> Bool {
        guard SpoolLayout.isValidJobID(jobID) else { return false }
        let url = processing.appendingPathComponent(jobID).appendingPathComponent(SpoolLayout.cancelFile)
        return FileOps.lstatInfo(url) != nil
    }

    /// Records the result and moves the job to done/ or failed/; returns its final directory.
    /// `record` is a mapping of the caller's fields (parameters, seeds, timings, outputs…; another value
    /// is stored as `details`); the spool adds job, source, status, reason, finished, host and pid first.
    @discardableResult
    public func finish(_ job: ClaimedJob, outcome: JobOutcome, record: YAMLValue = .mapping([])) throws -> URL {
        try verifyOwnership(job)
        var fields: [(String, YAMLValue)] = [
            ("job", .string(job.id)),
            ("source", .string(job.source)),
        ]
        switch outcome {
        case .done:
            fields.append(("status", .string("done")))
        case let .failed(reason):
            fields.append(("status", .string("failed")))
            fields.append(("reason", .string(reason)))
        }
        fields += [
            ("finished", .string(Timestamp.format(Date()))),
            ("host", .string(identity.host)),
            ("pid", .int(Int(identity.pid))),
        ]
        let extra: [(String, YAMLValue)]
        switch record {
        case let .mapping(given): extra = given
        case .null: extra = []
        default: extra = [("details", record)]
        }
        fields += extra.filter { field in !fields.contains { $0.0 == field.0 } }
        let result = job.directory.appendingPathComponent(SpoolLayout.resultFile)
        try FileOps.writeAtomically(Data(RecordYAML.emit(fields).utf8), to: result)
        return try completeFinish(job)
    }

    /// Moves a job directory that has its result.yaml to done/ or failed/ (per the result's status).
    @discardableResult
    func completeFinish(_ job: ClaimedJob) throws -> URL {
        let resultURL = job.directory.appendingPathComponent(SpoolLayout.resultFile)
        let status = try readResult(resultURL)?["status"]?.stringValue
        if configuration.removeCheckpointWhenFinished && status == "done" {
            try FileOps.remove(job.directory.appendingPathComponent(SpoolLayout.checkpointFile))
        }
        let parent = status == "done" ? done : failed
        guard let final = try moveToUniqueDirectory(job.directory, in: parent, id: job.id) else {
            throw SpoolError.leaseLost(jobID: job.id, path: job.directory.path)
        }
        logger.info("\(job.id) → \(parent.lastPathComponent)/\(final.lastPathComponent)")
        return final
    }

    /// The top-level fields of a result.yaml, or nil when missing.
    func readResult(_ url: URL) throws -> [String: YAMLValue]? {
        guard let data = try FileOps.readFile(url) else { return nil }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpoolError.malformedRecord(path: url.path, line: 1, reason: "not UTF-8")
        }
        return try RecordYAML.readTopLevel(text, path: url.path)
    }

    /// Gives the job back (SIGTERM): it stays in processing/ with its checkpoint, and the next
    /// `claimNext` of any daemon resumes it at once. Write the last checkpoint before calling this.
    public func release(_ job: ClaimedJob) throws {
        try writeLease(job, released: true)
        logger.info("released \(job.id) (lease \(job.generation))")
    }
}
