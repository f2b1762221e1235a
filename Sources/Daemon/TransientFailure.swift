// TransientFailure: which render errors may pass if the job is simply tried again later (the retry
// policy of `daemon.transient_retries`), as opposed to errors that will not pass and fail the job at
// once (an invalid job, a bad model, an unsupported option, a broken render state).
//
// Transient: the system errors of a full or failing disk (ENOSPC, EDQUOT, EIO), of a shared path that is
// gone or stalls for a while (ESTALE, ENOTCONN, ETIMEDOUT, EHOSTDOWN, EHOSTUNREACH, EAGAIN, EBUSY,
// EACCES), and Slurm refusing a submission for capacity. The errors reach the daemon as typed values
// (VideoIOError with its errno) or as text that quotes the system's message (strerror), so both are
// recognised.

import Foundation
import Render
import VideoIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum TransientFailure {
    /// The errno values that may pass.
    public static let codes: [Int32] = [
        ENOSPC, EDQUOT, EIO, ESTALE, ENOTCONN, ETIMEDOUT, EHOSTDOWN, EHOSTUNREACH, EAGAIN, EBUSY, EACCES,
    ]

    /// Phrases of sbatch's answer when the cluster is at a limit that lifts by itself.
    public static let slurmCapacity = [
        "QOSMaxSubmitJob", "AssocMaxSubmitJob", "MaxSubmitJobs", "Resource temporarily unavailable",
        "Socket timed out", "Slurm temporarily unable", "Job violates accounting/QOS policy (job submit limit",
        "Too many pending jobs",
    ]

    /// True when `error` (from a render) may pass.
    public static func isTransient(_ error: Error) -> Bool {
        switch error {
        case let e as VideoIOError:
            switch e {
            case let .system(_, code, _, _): return codes.contains(code)
            case let .libav(_, code, _, _): return codes.contains(-code)
            default: return false
            }
        case let e as RenderError:
            switch e {
            case let .output(_, reason): return mentionsTransientErrno(reason)
            default: return false  // a bad model, an unsupported option, a broken state: final
            }
        default:
            return false
        }
    }

    /// True when a failure reason (e.g. "sbatch refused the job: ...") is Slurm at capacity.
    public static func isSlurmCapacity(_ reason: String) -> Bool {
        reason.hasPrefix("sbatch refused") && slurmCapacity.contains { reason.contains($0) }
    }

    /// True when `text` quotes the system message of a transient errno.
    public static func mentionsTransientErrno(_ text: String) -> Bool {
        codes.contains { code in text.contains(String(cString: strerror(code))) }
    }
}
