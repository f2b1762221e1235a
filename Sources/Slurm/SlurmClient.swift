// SlurmClient: runs the Slurm client programs (sbatch, squeue, scontrol, scancel) as child processes
// with a deadline, and sorts their failures into "unreachable" (retry later) and "rejected" (Slurm's
// own message). The programs find the cluster the usual way (SLURM_CONF, or /etc/slurm/slurm.conf),
// so the daemon talks to Slurm exactly as a user at the submit host would.

import Foundation
import Processes

/// The Slurm client programs.
public struct SlurmClient: Sendable {
    /// Folders searched for the programs, in order: PATH (a standard one when PATH is unset).
    public let searchPath: [String]
    /// Seconds a client call may take before it counts as unreachable.
    public var timeout: Double

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, timeout: Double = 60) {
        searchPath = ChildProcess.searchPath(environment)
        self.timeout = timeout
    }

    /// The program's path, or `notInstalled`.
    public func locate(_ program: String) throws(SlurmError) -> String {
        do { return try ChildProcess.locate(program, searchPath: searchPath) } catch {
            throw .notInstalled(program: program, searched: searchPath)
        }
    }

    /// What a finished client call printed.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// stderr without Slurm's known noise, trimmed (what a message to the user should quote).
        public var message: String {
            let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.contains("Unknown type ArrayJobId") }
            let text = lines.joined(separator: "; ")
            return text.isEmpty ? stdout.trimmingCharacters(in: .whitespacesAndNewlines) : text
        }
    }

    /// Runs `program arguments` (with `input` on stdin) and returns what it printed, whatever its
    /// status. Throws `notInstalled`, or `unreachable` when it did not finish within the timeout.
    public func run(_ program: String, _ arguments: [String], input: String? = nil) throws(SlurmError) -> Output {
        let path = try locate(program)
        let command = ([program] + arguments).joined(separator: " ")
        do {
            let output = try ChildProcess.run(path, arguments, input: input, timeout: timeout)
            return Output(status: output.status, stdout: output.stdout, stderr: output.stderr)
        } catch .timedOut {
            throw .unreachable(command: command, message: "no answer within \(Int(timeout)) s")
        } catch {
            throw .unreachable(command: command, message: "\(error)")
        }
    }

    /// Runs a query; a non-zero status is `unreachable` when Slurm says it could not reach the
    /// controller, else `rejected` with Slurm's message.
    public func query(_ program: String, _ arguments: [String], input: String? = nil) throws(SlurmError) -> String {
        let output = try run(program, arguments, input: input)
        guard output.status == 0 else { throw Self.failure(program, arguments, output) }
        return output.stdout
    }

    /// The error of a failed call.
    static func failure(_ program: String, _ arguments: [String], _ output: Output) -> SlurmError {
        let command = ([program] + arguments.prefix(3)).joined(separator: " ")
        return isUnreachable(output.message)
            ? .unreachable(command: command, message: output.message)
            : .rejected(command: command, message: output.message)
    }

    /// Slurm's wording when the controller (or munge) could not be reached or is too busy to take a job
    /// now (a submit limit), as opposed to a refusal that will not pass.
    public static func isUnreachable(_ message: String) -> Bool {
        let m = message.lowercased()
        return [
            "unable to contact slurm controller", "connection refused", "socket timed out",
            "communication connection failure", "slurm_persist_conn_open", "munge", "temporarily unavailable",
            "could not establish a configuration source", "zero bytes were transmitted or received",
            "resource temporarily unavailable", "unable to establish",
            // Refusals for capacity pass by themselves too: try again later, never fail the job for them.
            "temporarily unable to accept job", "job submit limit", "maxsubmitjob", "sending data to the controller",
        ].contains { m.contains($0) }
    }
}

