// SpoolDirectory+Hold: `skipdit hold` and `skipdit release`, for one job and for the whole spool.
//
// A held job lives in processing/<id>/ with a `hold` marker (see SpoolLayout). Holding a job that waits
// in incoming/ claims it first with the daemons' own claim (one rename decides between the command and
// any daemon), writes the marker, then releases the lease: at no moment is it both claimable and
// marked. When a daemon wins that rename, the marker goes into processing/<id>/ and the daemon sees it
// before it renders (JobRunner) or at the next step boundary (it checkpoints and releases the job).
// The spool hold (<root>/hold) stops every daemon's claimNext; the running renders go on.

import Foundation
import Jobs

#if canImport(Glibc)
    import Glibc
#endif

extension SpoolDirectory {
    /// <root>/hold
    var spoolHoldFile: URL { root.appendingPathComponent(SpoolLayout.holdFile) }

    /// Holds a job: a queued one is not claimed, a running one stops at its next step boundary.
    public func hold(jobID: String, reason: String? = nil) throws -> HoldOutcome {
        guard SpoolLayout.isValidJobID(jobID) else { throw SpoolError.invalidJobID(jobID) }
        for _ in 0..<10 {  // a queued job may be claimed by a daemon while we look: look again
            let directory = processing.appendingPathComponent(jobID, isDirectory: true)
            if FileOps.lstatInfo(directory)?.kind == .directory {
                return try markHeld(directory, jobID: jobID, reason: reason)
            }
            guard let file = try incomingFile(matching: jobID) else {
                // A daemon may be between its rename of the file and that of its claim folder: look again.
                usleep(20_000)
                continue
            }
            if let job = try claimIncoming(file) {
                try writeHoldMarker(in: job.directory, reason: reason)
                try recordEvent("held", reasonField(reason), in: job.directory)
                appendLog("held while queued by \(commandTag("hold"))", in: job.directory)
                try release(job)
                return .held(jobID: job.id)
            }
        }
        if let location = try locate(jobID: jobID) {
            throw SpoolError.wrongState(
                jobID: jobID, state: location.name, action: "hold",
                hint: "only queued and running jobs can be held; `skipdit retry` queues a failed one again")
        }
        throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)
    }

    private func markHeld(_ directory: URL, jobID: String, reason: String?) throws -> HoldOutcome {
        if FileOps.lstatInfo(directory.appendingPathComponent(SpoolLayout.holdFile)) != nil {
            return .alreadyHeld(jobID: jobID)
        }
        do {
            try writeHoldMarker(in: directory, reason: reason)
        } catch SpoolError.system(_, _, ENOENT) {
            throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)  // it finished just now
        }
        try recordEvent("held", reasonField(reason), in: directory)
        let entry = try inspect(directory)
        let running = entry.map { $0.state == .alive || $0.state == .ours } ?? false
        appendLog(
            (running ? "hold requested (it stops at the next step boundary) by " : "held by ") + commandTag("hold"),
            in: directory)
        return running ? .requested(jobID: jobID) : .held(jobID: jobID)
    }

    private func writeHoldMarker(in directory: URL, reason: String?) throws {
        var fields: [(String, YAMLValue)] = [
            ("requested", .string(Timestamp.format(Date()))), ("host", .string(identity.host)),
            ("pid", .int(Int(identity.pid))),
        ]
        fields += reasonField(reason)
        try FileOps.writeAtomically(
            Data(RecordYAML.emit(fields).utf8), to: directory.appendingPathComponent(SpoolLayout.holdFile))
    }

    private func reasonField(_ reason: String?) -> [(String, YAMLValue)] {
        reason.map { [("reason", .string($0))] } ?? []
    }

    /// Releases a held job: it is queued again (a stopped render resumes from its checkpoint).
    /// Returns false when it was not held.
    @discardableResult
    public func releaseHold(jobID: String) throws -> Bool {
        guard SpoolLayout.isValidJobID(jobID) else { throw SpoolError.invalidJobID(jobID) }
        let directory = processing.appendingPathComponent(jobID, isDirectory: true)
        let marker = directory.appendingPathComponent(SpoolLayout.holdFile)
        guard FileOps.lstatInfo(marker) != nil else {
            guard try locate(jobID: jobID) != nil else { throw SpoolError.jobNotFound(jobID: jobID, spool: root.path) }
            return false
        }
        try FileOps.remove(marker)
        try FileOps.fsyncDirectory(directory)
        try recordEvent("released", in: directory)
        appendLog("released by \(commandTag("release")); it is queued again", in: directory)
        wakeDaemons()
        return true
    }

    /// True when `skipdit hold` asked this job to stop (poll at step boundaries, and before rendering).
    public func isHoldRequested(_ job: ClaimedJob) -> Bool {
        FileOps.lstatInfo(job.directory.appendingPathComponent(SpoolLayout.holdFile)) != nil
    }

    /// The ids of the held jobs in processing/ (stopped or still stopping).
    public func heldJobIDs() throws -> [String] {
        try FileOps.list(processing).filter { name in
            !name.hasPrefix(".")
                && FileOps.lstatInfo(
                    processing.appendingPathComponent(name).appendingPathComponent(SpoolLayout.holdFile))
                    != nil
        }
    }

    /// The ids of the jobs a live process works on now.
    public func runningJobIDs() throws -> [String] {
        try processingEntries().filter { !$0.isClaim && ($0.state == .alive || $0.state == .ours) }.map {
            $0.directory.lastPathComponent
        }
    }

    // MARK: the spool hold

    /// Sets the spool hold (no daemon claims a job while it exists). Returns false when it was set already.
    @discardableResult
    public func holdSpool() throws -> Bool {
        let fields: [(String, YAMLValue)] = [
            ("since", .string(Timestamp.format(Date()))), ("host", .string(identity.host)),
            ("pid", .int(Int(identity.pid))),
        ]
        return try FileOps.publishExclusively(Data(RecordYAML.emit(fields).utf8), at: spoolHoldFile)
    }

    /// Removes the spool hold; returns false when it was not set.
    @discardableResult
    public func releaseSpool() throws -> Bool {
        guard FileOps.lstatInfo(spoolHoldFile) != nil else { return false }
        try FileOps.remove(spoolHoldFile)
        try FileOps.fsyncDirectory(root)
        wakeDaemons()
        return true
    }

    /// The spool hold, when set.
    public func spoolHold() -> SpoolHold? {
        guard FileOps.lstatInfo(spoolHoldFile) != nil else { return nil }
        let fields = (try? readResult(spoolHoldFile)) ?? [:]
        let by = "pid \(fields["pid"]?.intValue ?? 0) on \(fields["host"]?.stringValue ?? "?")"
        return SpoolHold(since: fields["since"]?.stringValue.flatMap(Timestamp.parse), by: by)
    }
}
