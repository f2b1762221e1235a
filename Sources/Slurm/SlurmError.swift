// SlurmError: what can go wrong talking to Slurm, told so an operator can act on it. `unreachable`
// is transient (the controller is down or busy: retry later, never fail a job for it); `rejected`
// is Slurm refusing a request (a bad partition, account or time limit: its own message is kept).

/// A failed Slurm client call.
public enum SlurmError: Error, Equatable, CustomStringConvertible {
    /// The client program is not installed (or not executable) where it was looked for.
    case notInstalled(program: String, searched: [String])
    /// The controller could not be reached, or the call timed out.
    case unreachable(command: String, message: String)
    /// Slurm refused the request; `message` is Slurm's own.
    case rejected(command: String, message: String)
    /// The program answered something skipdit cannot read.
    case unexpectedOutput(command: String, output: String)

    public var description: String {
        switch self {
        case let .notInstalled(program, searched):
            return "the Slurm client '\(program)' is not installed (looked in \(searched.joined(separator: ", ")))"
                + "; install slurm-client on this host or set executor.kind: local"
        case let .unreachable(command, message):
            return "Slurm is unreachable (\(command)): \(message)"
        case let .rejected(command, message):
            return "Slurm refused \(command): \(message)"
        case let .unexpectedOutput(command, output):
            return "unexpected answer from \(command): \(output.prefix(300))"
        }
    }

    /// True for errors that may pass by themselves (retry with backoff).
    public var isTransient: Bool {
        if case .unreachable = self { return true }
        return false
    }
}
