// Lease: the ownership record of a claimed job (processing/<id>/lease.<g>) and the rule that decides
// whether its owner is still alive.

import Foundation
import Jobs

/// Who works on a claimed job, since when, and the latest sign of life.
public struct Lease: Sendable, Equatable {
    /// The owning process.
    public var owner: ProcessIdentity
    /// The lease generation: 1 for the claim, +1 for every takeover.
    public var generation: Int
    /// The job file's name in incoming/ when it was claimed.
    public var source: String
    /// When this generation was taken.
    public var claimed: Date
    /// The owner's latest heartbeat.
    public var heartbeat: Date
    /// True once the owner gave the job back (SIGTERM); anyone may resume it at once.
    public var released: Bool
    /// True on the lease `skipdit retry` publishes: the crash-loop cap counts only crashes after it.
    public var restart: Bool

    /// Creates a lease.
    public init(
        owner: ProcessIdentity, generation: Int, source: String, claimed: Date, heartbeat: Date,
        released: Bool = false, restart: Bool = false
    ) {
        self.owner = owner
        self.generation = generation
        self.source = source
        self.claimed = claimed
        self.heartbeat = heartbeat
        self.released = released
        self.restart = restart
    }

    /// The lease as a YAML record.
    func encoded() -> Data {
        let fields: [(String, YAMLValue)] =
            [
                ("host", .string(owner.host)),
                ("boot_id", .string(owner.bootID)),
                ("pid", .int(Int(owner.pid))),
                ("process_start", .string(String(owner.startTime))),
                ("generation", .int(generation)),
                ("source", .string(source)),
                ("claimed", .string(Timestamp.format(claimed))),
                ("heartbeat", .string(Timestamp.format(heartbeat))),
                ("released", .bool(released)),
            ] + (restart ? [("restart", .bool(true))] : [])
        return Data(RecordYAML.emit(fields).utf8)
    }

    /// Parses a lease record written by `encoded()`.
    static func decode(_ data: Data, path: String) throws -> Lease {
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpoolError.malformedRecord(path: path, line: 1, reason: "not UTF-8")
        }
        let fields = try RecordYAML.readTopLevel(text, path: path)
        func field<T>(_ key: String, _ get: (YAMLValue) -> T?) throws -> T {
            guard let value = fields[key], let typed = get(value) else {
                throw SpoolError.malformedRecord(path: path, line: 1, reason: "missing or bad `\(key)`")
            }
            return typed
        }
        let owner = ProcessIdentity(
            host: try field("host") { $0.stringValue }, bootID: try field("boot_id") { $0.stringValue },
            pid: Int32(clamping: try field("pid") { $0.intValue }),
            startTime: try field("process_start") { $0.stringValue.flatMap { UInt64($0) } })
        return Lease(
            owner: owner, generation: try field("generation") { $0.intValue },
            source: try field("source") { $0.stringValue },
            claimed: try field("claimed") { $0.stringValue.flatMap(Timestamp.parse) },
            heartbeat: try field("heartbeat") { $0.stringValue.flatMap(Timestamp.parse) },
            released: try field("released") { $0.boolValue }, restart: fields["restart"]?.boolValue ?? false)
    }
}

/// What a lease says about its job, seen from one process.
public enum LeaseState: Sendable, Equatable {
    /// This process owns the lease.
    case ours
    /// Another live process owns it.
    case alive
    /// The owner gave the job back; it can be resumed at once.
    case released
    /// The owner is dead (the reason says how we know); the job can be taken over.
    case dead(reason: String)

    /// True when the job may be taken over.
    public var isAvailable: Bool {
        switch self {
        case .released, .dead: return true
        case .ours, .alive: return false
        }
    }
}

/// The liveness rule: same host (and boot) → the pid must run with the same start time; another host
/// → the heartbeat must be younger than `staleAfter` seconds.
struct LeaseJudge {
    var me: ProcessIdentity
    var staleAfter: TimeInterval

    func state(of lease: Lease, now: Date = Date()) -> LeaseState {
        if lease.released { return .released }
        let owner = lease.owner
        if owner == me { return .ours }
        if owner.host == me.host {
            if !owner.bootID.isEmpty && !me.bootID.isEmpty && owner.bootID != me.bootID {
                return .dead(reason: "\(owner.host) rebooted since pid \(owner.pid) took the lease")
            }
            if ProcessProbe.state(pid: owner.pid, startTime: owner.startTime) == .dead {
                return .dead(reason: "pid \(owner.pid) on \(owner.host) is gone")
            }
            return .alive
        }
        let age = now.timeIntervalSince(lease.heartbeat)
        if age > staleAfter {
            return .dead(
                reason: "heartbeat of \(owner.host) pid \(owner.pid) is \(Int(age)) s old "
                    + "(stale after \(Int(staleAfter)) s)")
        }
        return .alive
    }

    /// The state of an unreadable (or missing) lease, judged by the age of the file or directory.
    func state(ofUnreadableModifiedAt modified: Double, now: Date = Date()) -> LeaseState {
        let age = now.timeIntervalSince1970 - modified
        return age > staleAfter ? .dead(reason: "unreadable lease, \(Int(age)) s old") : .alive
    }
}

/// ISO 8601 timestamps with milliseconds, in UTC.
enum Timestamp {
    private static func formatter() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }

    static func format(_ date: Date) -> String { formatter().string(from: date) }

    static func parse(_ text: String) -> Date? {
        if let date = formatter().date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        return plain.date(from: text)
    }
}
