// SystemdNotifier: the sd_notify protocol without libsystemd: newline-separated KEY=VALUE datagrams sent
// to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract namespace), and the
// watchdog interval from $WATCHDOG_USEC / $WATCHDOG_PID. All of its C calls live in this file.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error sending a notification to systemd.
public enum SystemdNotifyError: Error, CustomStringConvertible, Equatable {
    /// The socket address in $NOTIFY_SOCKET is unusable.
    case badAddress(String)
    /// A system call failed.
    case system(operation: String, socket: String, errno: Int32)

    public var description: String {
        switch self {
        case let .badAddress(address):
            return "NOTIFY_SOCKET=\(address): not a usable AF_UNIX address; hint: it must be an absolute path "
                + "or start with '@', at most 107 bytes (systemd sets it for Type=notify services)"
        case let .system(operation, socket, code):
            return "NOTIFY_SOCKET=\(socket): \(operation) failed: \(String(cString: strerror(code))) "
                + "(errno \(code)); hint: check that systemd's notify socket is reachable from the sandbox"
        }
    }
}

/// Sends sd_notify messages to systemd; every call is a no-op when $NOTIFY_SOCKET is unset.
public struct SystemdNotifier: Sendable {
    /// The notify socket address ($NOTIFY_SOCKET), nil when not run by systemd.
    public let socketAddress: String?
    /// How often to send WATCHDOG=1 (half of $WATCHDOG_USEC), nil when no watchdog is set for this process.
    public let watchdogInterval: TimeInterval?

    /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `environment`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let address = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketAddress = address
        var interval: TimeInterval?
        if let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0 {
            let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
            if pid == nil || pid == getpid() { interval = Double(usec) / 2e6 }
        }
        watchdogInterval = interval
    }

    /// True when notifications go anywhere.
    public var isEnabled: Bool { socketAddress != nil }

    /// READY=1 (startup finished), with an optional STATUS line.
    public func ready(status: String? = nil) throws {
        try send(["READY=1"] + (status.map { ["STATUS=\(Self.oneLine($0))"] } ?? []))
    }

    /// STATUS=… (a one-line state shown by `systemctl status`).
    public func status(_ text: String) throws {
        try send(["STATUS=\(Self.oneLine(text))"])
    }

    /// WATCHDOG=1 (send every `watchdogInterval` seconds while healthy).
    public func watchdog() throws {
        try send(["WATCHDOG=1"])
    }

    /// STOPPING=1 (graceful shutdown began).
    public func stopping(status: String? = nil) throws {
        try send(["STOPPING=1"] + (status.map { ["STATUS=\(Self.oneLine($0))"] } ?? []))
    }

    /// RELOADING=1 with MONOTONIC_USEC (configuration reload began; send `ready()` when done).
    public func reloading() throws {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        try send(["RELOADING=1", "MONOTONIC_USEC=\(usec)"])
    }

    /// Sends `KEY=VALUE` assignments as one datagram.
    public func send(_ assignments: [String]) throws {
        guard let address = socketAddress else { return }
        let message = assignments.joined(separator: "\n") + "\n"
        guard address.hasPrefix("/") || address.hasPrefix("@") else { throw SystemdNotifyError.badAddress(address) }
        var path = Array(address.utf8)
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace: leading NUL, no terminator
        var addr = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        let isAbstract = path[0] == 0
        guard path.count + (isAbstract ? 0 : 1) <= capacity else { throw SystemdNotifyError.badAddress(address) }
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        let length = pathOffset + path.count + (isAbstract ? 0 : 1)

        #if os(Linux)
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw SystemdNotifyError.system(operation: "socket", socket: address, errno: errno) }
        defer { close(fd) }
        let sent = message.utf8CString.withUnsafeBytes { bytes in
            withUnsafePointer(to: &addr) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, bytes.baseAddress, bytes.count - 1, 0, sa, socklen_t(length))
                }
            }
        }
        guard sent >= 0 else { throw SystemdNotifyError.system(operation: "sendto", socket: address, errno: errno) }
    }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
