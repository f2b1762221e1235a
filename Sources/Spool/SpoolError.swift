// SpoolError: the typed errors of the spool directory layer, each with the path involved and a hint.

import Foundation

/// An error from the spool layer; every case names the file or directory involved.
public enum SpoolError: Error, CustomStringConvertible, Equatable {
    /// A system call on `path` failed with `errno`.
    case system(operation: String, path: String, errno: Int32)
    /// A spool record (lease, progress, result) could not be read.
    case malformedRecord(path: String, line: Int, reason: String)
    /// The lease of a claimed job has been taken over by another process.
    case leaseLost(jobID: String, path: String)
    /// No queued or running job has this id.
    case jobNotFound(jobID: String, spool: String)
    /// A job id or file name that cannot be used (empty, a path, or a dotfile).
    case invalidJobID(String)
    /// The job is not in a state the command acts on (`state` says where it is, `hint` what to do).
    case wrongState(jobID: String, state: String, action: String, hint: String)
    /// Another process changed the job at the same moment (e.g. two `retry`s); nothing was done.
    case contended(jobID: String, path: String)

    public var description: String {
        switch self {
        case let .system(operation, path, code):
            let message = String(cString: strerror(code))
            return "\(path): \(operation) failed: \(message) (errno \(code)); hint: \(Self.hint(errno: code))"
        case let .malformedRecord(path, line, reason):
            return "\(path):\(line): malformed spool record: \(reason); hint: spool records are written by "
                + "skipdit only, do not edit them by hand"
        case let .leaseLost(jobID, path):
            return "\(path): the lease of job \(jobID) was taken over by another process; hint: the "
                + "heartbeat was older than the stale threshold (clock skew between hosts, or a stalled "
                + "daemon); this process must stop working on the job"
        case let .jobNotFound(jobID, spool):
            return "\(spool): no queued or running job \(jobID); hint: `skipdit status` lists the job ids"
        case let .wrongState(jobID, state, action, hint):
            return "cannot \(action) job \(jobID): it is \(state); hint: \(hint)"
        case let .contended(jobID, path):
            return "\(path): another process changed job \(jobID) at the same moment; nothing was done; hint: "
                + "look at `skipdit status` and try again"
        case let .invalidJobID(id):
            return "invalid job id \"\(id)\"; hint: a job id is a file name stem such as `biking` "
                + "(letters, digits, '.', '_', '-'), not a path"
        }
    }

    private static func hint(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return "check the permissions of the spool directory and its owner"
        case ENOENT: return "the file was moved or removed by another process"
        case ENOSPC, EDQUOT: return "the file system is full"
        case EROFS: return "the file system is mounted read-only"
        case EXDEV: return "incoming/, processing/, done/ and failed/ must be on one file system"
        default: return "check the spool directory"
        }
    }
}
