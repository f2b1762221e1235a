// SlurmController: the calls the daemon makes to the cluster's controller: submit an array, read
// its task records, find an array by name and comment (to adopt one submitted before a crash),
// requeue a task, cancel an array. Each call runs the standard client program (SlurmClient).

import Foundation
import Jobs

/// The Slurm controller as seen from the submit host.
public struct SlurmController: Sendable {
    public let client: SlurmClient

    public init(client: SlurmClient = SlurmClient()) { self.client = client }

    /// Checks that the client programs are installed (the daemon refuses slurm mode without them).
    public func checkInstalled() throws(SlurmError) {
        for program in ["sbatch", "squeue", "scontrol", "scancel"] { _ = try client.locate(program) }
    }

    /// Submits the array; returns its job id. A refusal is `rejected` with sbatch's message.
    public func submit(_ request: SlurmArrayRequest, settings: ExecutorSettings) throws(SlurmError) -> Int {
        let arguments = request.arguments(settings)
        let output = try client.run("sbatch", arguments, input: request.script)
        guard output.status == 0 else { throw SlurmClient.failure("sbatch", arguments, output) }
        // --parsable prints "JOBID" or "JOBID;CLUSTER".
        let first = output.stdout.split(whereSeparator: { $0 == ";" || $0.isNewline }).first.map(String.init) ?? ""
        guard let id = Int(first.trimmingCharacters(in: .whitespaces)) else {
            throw .unexpectedOutput(command: "sbatch --parsable", output: output.stdout + output.stderr)
        }
        return id
    }

    /// The records of an array (its started tasks and its pending remainder); nil when the controller
    /// no longer knows it (finished longer ago than MinJobAge, or never submitted).
    public func records(ofArray id: Int) throws(SlurmError) -> [SlurmJobRecord]? {
        let output = try client.run("scontrol", ["show", "job", "-o", String(id)])
        if output.status != 0 {
            if output.message.lowercased().contains("invalid job id") { return nil }
            throw SlurmClient.failure("scontrol", ["show", "job", String(id)], output)
        }
        let records = SlurmJobRecord.parse(output.stdout).filter { $0.arrayJobID == id || $0.jobID == id }
        return records.isEmpty ? nil : records
    }

    /// The array job ids of the jobs named `name` whose comment `matches` (queued, running or
    /// recently finished), lowest first.
    public func arrays(named name: String, comment matches: (String) -> Bool) throws(SlurmError) -> [Int] {
        let text = try client.query(
            "squeue", ["--noheader", "--array", "--states=all", "--name=\(name)", "--format=%F|%k"])
        var ids = Set<Int>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, matches(parts[1]), let id = Int(parts[0]) else { continue }
            ids.insert(id)
        }
        return ids.sorted()
    }

    /// Requeues one task ("ARRAY_INDEX"), finished or running.
    public func requeue(array: Int, index: Int) throws(SlurmError) {
        _ = try client.query("scontrol", ["requeue", "\(array)_\(index)"])
    }

    /// Cancels every task of an array (a finished one is not an error).
    public func cancel(array: Int) throws(SlurmError) {
        let output = try client.run("scancel", [String(array)])
        if output.status != 0, !output.message.lowercased().contains("already completed"),
            !output.message.lowercased().contains("invalid job id")
        {
            throw SlurmClient.failure("scancel", [String(array)], output)
        }
    }
}

extension SlurmController {
    /// Holds an array for `skipdit hold`: its pending tasks stay pending (`scontrol hold`), its running
    /// tasks are requeued held (`scontrol requeuehold`: SIGTERM, the task saves its state and exits).
    /// Tasks that already ended are not an error.
    public func hold(array: Int) throws(SlurmError) {
        let hold = try client.run("scontrol", ["hold", String(array)])
        let requeue = try client.run("scontrol", ["requeuehold", String(array)])
        for (output, verb) in [(hold, "hold"), (requeue, "requeuehold")] where output.status != 0 {
            let message = output.message.lowercased()
            let harmless = ["already completed", "invalid job id", "is finished", "pending", "not running"]
            if !harmless.contains(where: message.contains) {
                throw SlurmClient.failure("scontrol", [verb, String(array)], output)
            }
        }
    }

    /// Releases an array held by `hold(array:)` (`scontrol release`); a task that is not held is not an error.
    public func release(array: Int) throws(SlurmError) {
        let output = try client.run("scontrol", ["release", String(array)])
        let message = output.message.lowercased()
        if output.status != 0,
            !["not held", "already completed", "invalid job id", "is finished"].contains(
                where: message.contains)
        {
            throw SlurmClient.failure("scontrol", ["release", String(array)], output)
        }
    }
}

extension SlurmController {
    /// Requeues a job by its own id (what a task does with $SLURM_JOB_ID).
    public func requeue(job id: String) throws(SlurmError) {
        _ = try client.query("scontrol", ["requeue", id])
    }
}

extension SlurmController {
    /// The final states accounting recorded for an array's tasks, by index ("FAILED 1:0"); nil when
    /// the cluster keeps no accounting (sacct: "accounting storage is disabled") or sacct is missing.
    public func accounting(ofArray id: Int) -> [Int: String]? {
        guard
            let output = try? client.run(
                "sacct", ["-n", "-P", "-X", "-j", String(id), "--format=JobID,State,ExitCode"]),
            output.status == 0
        else { return nil }
        var states: [Int: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, let underscore = fields[0].firstIndex(of: "_") else { continue }
            let index = fields[0][fields[0].index(after: underscore)...]
            for i in SlurmJobRecord.indices(String(index.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))) {
                states[i] = "\(fields[1]) \(fields[2])"
            }
        }
        return states
    }
}
