// ProcessIdentity: who owns a lease (host, boot id, pid, process start time) and whether a process on
// this host is still alive. Every C call about processes and hosts lives here.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Identifies one process across hosts, reboots and pid reuse.
public struct ProcessIdentity: Sendable, Equatable {
    /// The host name (gethostname).
    public var host: String
    /// /proc/sys/kernel/random/boot_id; empty where the system has none.
    public var bootID: String
    /// The process id.
    public var pid: Int32
    /// Field 22 of /proc/<pid>/stat (clock ticks after boot); 0 where unknown.
    public var startTime: UInt64

    /// Creates an identity (tests use this to impersonate other hosts and dead processes).
    public init(host: String, bootID: String, pid: Int32, startTime: UInt64) {
        self.host = host
        self.bootID = bootID
        self.pid = pid
        self.startTime = startTime
    }

    /// The identity of the running process.
    public static func current() -> ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(
            host: ProcessProbe.hostName(), bootID: ProcessProbe.bootID(), pid: pid,
            startTime: ProcessProbe.startTime(pid: pid) ?? 0)
    }
}

/// What this host can tell about a process.
public enum ProcessState: Sendable, Equatable {
    /// The process runs (and, where known, its start time matches).
    case alive
    /// No such process, a zombie, or the pid was reused by another process.
    case dead
}

enum ProcessProbe {
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    static func bootID() -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id"),
            let text = String(data: data, encoding: .utf8)
        else { return "" }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The fields of /proc/<pid>/stat after the command name: [0] state, [19] starttime.
    private static func statFields(pid: Int32) -> [Substring]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
            let text = String(data: data, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// The start time of `pid` in clock ticks after boot (field 22 of /proc/<pid>/stat).
    static func startTime(pid: Int32) -> UInt64? {
        guard let fields = statFields(pid: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Whether `pid` on this host (same boot) is the process that started at `startTime` (0: unknown).
    static func state(pid: Int32, startTime: UInt64) -> ProcessState {
        guard pid > 0 else { return .dead }
        if kill(pid, 0) != 0, errno == ESRCH { return .dead }
        // The process exists (kill succeeded, or EPERM: it belongs to another user).
        guard let fields = statFields(pid: pid) else {
            // No /proc (macOS) or it vanished just now: trust kill(2) unless it vanished.
            return kill(pid, 0) != 0 && errno == ESRCH ? .dead : .alive
        }
        if fields.first == "Z" || fields.first == "X" { return .dead }
        if startTime != 0, fields.count > 19, let actual = UInt64(fields[19]), actual != startTime {
            return .dead  // the pid was reused
        }
        return .alive
    }
}
