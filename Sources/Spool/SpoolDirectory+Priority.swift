// SpoolDirectory+Priority: `skipdit priority JOB N`. The job file is never edited: the operator's value
// goes into processing/<id>/priority.yaml (written atomically), which the queue reads instead of the
// file's `priority:`, and the history records both. A job still in incoming/ is claimed first and given
// back at once (the daemons' own claim decides between the command and a daemon, see +Hold).

import Foundation
import Jobs

#if canImport(Glibc)
    import Glibc
#endif

/// What `setPriority` did.
public struct PriorityChange: Sendable, Equatable {
    /// The job id.
    public var jobID: String
    /// The priority in force before.
    public var previous: Int
    /// The job file's own `priority:`.
    public var file: Int
    /// The new priority.
    public var priority: Int
    /// True when the job runs now (the priority matters if it is queued again).
    public var running: Bool
}

extension SpoolDirectory {
    /// Sets the priority of a queued (or held, or running) job; `filePriority` reads a job file's own value.
    public func setPriority(jobID: String, to value: Int, filePriority: (URL) -> Int) throws -> PriorityChange {
        guard SpoolLayout.isValidJobID(jobID) else { throw SpoolError.invalidJobID(jobID) }
        for _ in 0..<10 {
            let directory = processing.appendingPathComponent(jobID, isDirectory: true)
            if FileOps.lstatInfo(directory)?.kind == .directory {
                let running = try inspect(directory).map { $0.state == .alive || $0.state == .ours } ?? false
                do {
                    return try writePriority(value, in: directory, running: running, filePriority: filePriority)
                } catch SpoolError.system(_, _, ENOENT) {
                    throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)
                }
            }
            guard let file = try incomingFile(matching: jobID) else {
                // A daemon may be between its rename of the file and that of its claim folder: look again.
                usleep(20_000)
                continue
            }
            if let job = try claimIncoming(file) {
                let change = try writePriority(value, in: job.directory, running: false, filePriority: filePriority)
                try release(job)
                return change
            }
        }
        if let location = try locate(jobID: jobID) {
            throw SpoolError.wrongState(
                jobID: jobID, state: location.name, action: "reprioritise",
                hint: "only waiting jobs have a priority; `skipdit retry` queues a failed one again")
        }
        throw SpoolError.jobNotFound(jobID: jobID, spool: root.path)
    }

    private func writePriority(_ value: Int, in directory: URL, running: Bool, filePriority: (URL) -> Int) throws
        -> PriorityChange
    {
        let jobFile = directory.appendingPathComponent(SpoolLayout.jobFile)
        let own = filePriority(jobFile)
        let previous = priorityOverride(in: directory) ?? own
        let fields: [(String, YAMLValue)] = [
            ("priority", .int(value)), ("job_file", .int(own)), ("set", .string(Timestamp.format(Date()))),
            ("host", .string(identity.host)), ("pid", .int(Int(identity.pid))),
        ]
        try FileOps.writeAtomically(
            Data(RecordYAML.emit(fields).utf8), to: directory.appendingPathComponent(SpoolLayout.priorityFile))
        try recordEvent(
            "priority", [("from", .int(previous)), ("to", .int(value)), ("job_file", .int(own))], in: directory)
        appendLog(
            "priority \(previous) → \(value) (the job file says \(own)) by \(commandTag("priority"))", in: directory)
        wakeDaemons()
        return PriorityChange(
            jobID: directory.lastPathComponent, previous: previous, file: own, priority: value, running: running)
    }

    /// The operator's priority of a job folder, when set.
    func priorityOverride(in directory: URL) -> Int? {
        (try? readResult(directory.appendingPathComponent(SpoolLayout.priorityFile)))?["priority"]?.intValue
    }
}
