// SpoolDirectory+Status: the read-only snapshot for `skipdit status`, and `skipdit cancel`.

import Foundation
import Jobs

extension SpoolDirectory {
    /// The queue (all job files in incoming/, stable or not, plus resumable jobs, in claim order),
    /// the jobs in processing/, and the `recent` latest results from done/ and failed/.
    /// Held jobs are listed apart (`held`), with the spool hold; queued jobs say what they wait for.
    public func status(recent: Int = 10, priority: (URL) -> Int, after: (URL) -> [String] = { _ in [] }) throws
        -> SpoolStatus
    {
        var queued = try incomingJobs(priority: priority, stableOnly: false).ready
        queued += try resumableJobs(priority: priority, parked: true)
        queued = try annotateDependencies(queued, reading: after)
        queued.sort(by: Self.claimOrder)
        let held = queued.filter(\.held)
        queued.removeAll(where: \.held)
        let running = try processingEntries().filter { !$0.isClaim }.map { entry in
            var job = RunningJob(
                id: entry.directory.lastPathComponent, lease: entry.lease, state: entry.state,
                progress: readProgress(in: entry.directory), cancelRequested: entry.hasCancel)
            job.holdRequested = entry.hasHold
            return job
        }
        var finished: [FinishedJob] = []
        for parent in [done, failed] {
            for name in try FileOps.list(parent) {
                let directory = parent.appendingPathComponent(name, isDirectory: true)
                let result = try? readResult(directory.appendingPathComponent(SpoolLayout.resultFile))
                let outcome: JobOutcome =
                    parent == done
                    ? .done : .failed(reason: result?["reason"]?.stringValue ?? "unknown (no result.yaml)")
                let date =
                    result?["finished"]?.stringValue.flatMap(Timestamp.parse)
                    ?? FileOps.lstatInfo(directory).map { Date(timeIntervalSince1970: $0.modified) }
                finished.append(FinishedJob(id: name, outcome: outcome, finished: date, directory: directory))
            }
        }
        finished.sort { ($0.finished ?? .distantPast) > ($1.finished ?? .distantPast) }
        return SpoolStatus(
            queued: queued, running: running, finished: Array(finished.prefix(max(0, recent))), held: held,
            spoolHold: spoolHold())
    }

    /// Cancels a job: a queued one (matched by id, file name or stem) moves to failed/ with reason
    /// "cancelled"; a running one gets a cancel request its owner polls at step boundaries (or, when
    /// its owner is gone, is moved to failed/ at once).
    public func cancel(jobID: String) throws -> CancelOutcome {
        guard SpoolLayout.isValidJobID(jobID) else { throw SpoolError.invalidJobID(jobID) }
        for _ in 0..<3 {  // a queued job may be claimed by a daemon while we look: look again
            let directory = processing.appendingPathComponent(jobID, isDirectory: true)
            if FileOps.lstatInfo(directory)?.kind == .directory {
                return try requestCancel(directory, jobID: jobID)
            }
            let matches = try FileOps.list(incoming).filter { name in
                SpoolLayout.kind(ofIncoming: name) == .job
                    && (name == jobID || SpoolLayout.stem(of: name) == jobID
                        || SpoolLayout.jobID(forFileName: name) == jobID)
            }
            guard let name = matches.first else { break }
            if let job = try claimIncoming(incoming.appendingPathComponent(name)) {
                return .cancelled(try finish(job, outcome: .failed(reason: "cancelled")))
            }
        }
        throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)
    }

    private func requestCancel(_ directory: URL, jobID: String) throws -> CancelOutcome {
        let marker = directory.appendingPathComponent(SpoolLayout.cancelFile)
        let fields: [(String, YAMLValue)] = [
            ("requested", .string(Timestamp.format(Date()))),
            ("host", .string(identity.host)),
            ("pid", .int(Int(identity.pid))),
        ]
        do {
            try FileOps.writeAtomically(Data(RecordYAML.emit(fields).utf8), to: marker)
        } catch SpoolError.system(_, _, ENOENT) {
            // It finished (or moved) just now.
            throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)
        }
        if let entry = try inspect(directory), entry.state.isAvailable {
            switch try takeOver(directory) {  // settles it as cancelled
            case let .finished(moved): return .cancelled(moved)
            case let .resume(job): return .cancelled(try finish(job, outcome: .failed(reason: "cancelled")))
            case .lost: break
            }
        }
        return .requested(jobID: jobID)
    }
}

extension SpoolDirectory {
    /// Enforces a queue limit: while more than `limit` job files wait in incoming/, the newest ones
    /// beyond the limit move to failed/ with a "queue full" reason (the job file is kept there; move
    /// it back to incoming/ once the queue has drained). Jobs being written count too, so a burst
    /// cannot slip past the limit while it settles. Returns the failed/ directories it filled.
    public func rejectOverflow(limit: Int) throws -> [URL] {
        let waiting = try incomingJobs(readPriority: false, stableOnly: false).ready
        guard waiting.count > limit else { return [] }
        let newestFirst = waiting.sorted { ($0.submitted, $0.id) > ($1.submitted, $1.id) }
        var rejected: [URL] = []
        for job in newestFirst.prefix(waiting.count - max(0, limit)) {
            guard let claimed = try claimIncoming(job.file) else { continue }  // another daemon took it
            let reason =
                "queue full: \(waiting.count) jobs were waiting, limits.max_queued_jobs is \(limit); "
                + "move the job file back to incoming/ to submit it again"
            rejected.append(try finish(claimed, outcome: .failed(reason: reason)))
        }
        return rejected
    }
}
