// SpoolDirectory+Retry: `skipdit retry JOB` puts a failed or cancelled job back into the queue with its
// history: its leases, its earlier result (kept as result.<n>.yaml), its log and its checkpoint.
//
// Protocol (atomic against daemons and other commands; only failed/<id> is touched until the last step):
//   1. `check` the job file (the caller validates it against the configuration; a job that does not
//      validate stays in failed/ and the error is thrown);
//   2. publish lease.<g+1> with link(2): released, `restart: true` (the crash-loop cap counts from here).
//      A second retry of the same job loses this link and stops (`contended`);
//   3. move result.yaml to result.<n>.yaml, remove a cancel request and a transient back-off, and
//      record the event in the history;
//   4. rename failed/<id> to processing/<id> (never replacing). From that moment it is a released job
//      with no result, which any daemon resumes (from its checkpoint, when it has one).
// A crash between 2 and 4 leaves the job in failed/ (status shows it with its archived result); a
// second retry completes it.

import Foundation
import Jobs

extension SpoolDirectory {
    /// Queues a failed or cancelled job again; returns its folder in processing/.
    /// `check` validates the job file (throwing leaves the job where it is).
    @discardableResult
    public func retry(jobID: String, check: (URL) throws -> Void) throws -> URL {
        guard SpoolLayout.isValidJobID(jobID) else { throw SpoolError.invalidJobID(jobID) }
        let directory = failed.appendingPathComponent(jobID, isDirectory: true)
        guard FileOps.lstatInfo(directory)?.kind == .directory else {
            guard let location = try locate(jobID: jobID) else {
                throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)
            }
            throw SpoolError.wrongState(
                jobID: jobID, state: location.name, action: "retry",
                hint: "only jobs in failed/ (failed or cancelled) can be retried")
        }
        let jobFile = directory.appendingPathComponent(SpoolLayout.jobFile)
        guard FileOps.lstatInfo(jobFile) != nil else {
            throw SpoolError.wrongState(
                jobID: jobID, state: "failed without a job file", action: "retry",
                hint: "put the job file back as \(jobFile.path), or submit it again")
        }
        try check(jobFile)

        let names = try FileOps.list(directory)
        let generation = (names.compactMap(SpoolLayout.leaseGeneration).max() ?? 0) + 1
        let previous = try? readResult(directory.appendingPathComponent(SpoolLayout.resultFile))
        let source =
            names.compactMap(SpoolLayout.leaseGeneration).max().flatMap { g in
                (try? FileOps.readFile(directory.appendingPathComponent(SpoolLayout.leaseFile(g)))).flatMap { $0 }
            }.flatMap { try? Lease.decode($0, path: "") }?.source ?? SpoolLayout.jobFile
        let now = Date()
        let lease = Lease(
            owner: identity, generation: generation, source: source, claimed: now, heartbeat: now, released: true,
            restart: true)
        let leaseURL = directory.appendingPathComponent(SpoolLayout.leaseFile(generation))
        guard try FileOps.publishExclusively(lease.encoded(), at: leaseURL) else {
            throw SpoolError.contended(jobID: jobID, path: leaseURL.path)
        }
        var fields: [(String, YAMLValue)] = [("generation", .int(generation))]
        if previous != nil {
            var n = (names.compactMap(SpoolLayout.archivedResultNumber).max() ?? 0) + 1
            while true {
                let archived = directory.appendingPathComponent(SpoolLayout.archivedResult(n))
                switch try FileOps.renameNoReplace(
                    directory.appendingPathComponent(SpoolLayout.resultFile), to: archived)
                {
                case .renamed, .sourceMissing: break
                case .destinationExists:
                    n += 1
                    continue
                }
                break
            }
            fields.append(("result", .string(SpoolLayout.archivedResult(n))))
        }
        if let reason = previous?["reason"] { fields.append(("previous_reason", reason)) }
        try FileOps.remove(directory.appendingPathComponent(SpoolLayout.cancelFile))
        try FileOps.remove(directory.appendingPathComponent(SpoolLayout.backoffFile))
        try recordEvent("retried", fields, in: directory)
        appendLog("retried by \(commandTag("retry")); it is queued again (lease \(generation))", in: directory)
        let destination = processing.appendingPathComponent(jobID, isDirectory: true)
        switch try FileOps.renameNoReplace(directory, to: destination) {
        case .renamed: break
        case .sourceMissing: throw SpoolError.contended(jobID: jobID, path: directory.path)
        case .destinationExists:
            throw SpoolError.wrongState(
                jobID: jobID, state: "failed, and processing/\(jobID) exists", action: "retry",
                hint: "another job has its id; retry it once that one has finished")
        }
        logger.info("retried \(jobID): queued again from failed/")
        wakeDaemons()
        return destination
    }
}
