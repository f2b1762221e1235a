// NotifyTests: a notify socket in the test receives the daemon's sd_notify datagrams: READY=1, STATUS
// lines while it renders, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 then READY=1 on SIGHUP (the
// reloaded config takes effect), and STOPPING=1 on SIGTERM.

import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A bound AF_UNIX datagram socket collecting messages on a background thread.
private final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var closed = false

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw HarnessError("socket path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let length =
            socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2) + socklen_t(bytes.count + 1)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw HarnessError("bind \(path): errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in receiveLoop() }
        thread.start()
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !lock.withLock({ closed }) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                let message = String(decoding: buffer[0..<n], as: UTF8.self)
                lock.withLock { received.append(message) }
            }
        }
        close(fd)
    }

    /// Every datagram so far, in order.
    var messages: [String] { lock.withLock { received } }

    /// Every KEY=VALUE line so far, in order.
    var lines: [String] { lock.withLock { received.flatMap { $0.split(separator: "\n").map(String.init) } } }

    func stop() { lock.withLock { closed = true } }
}

final class NotifyTests: DaemonTestCase {
    func testNotifySocketReceivesReadyStatusWatchdogReloadingAndStopping() throws {
        let spool = try makeSpool("notify")
        let socket = try NotifySocket(path: spool.root.appendingPathComponent("notify.sock").path)
        defer { socket.stop() }
        let daemon = try DaemonProcess(
            spool, arguments: ["--test-step-delay", "0.05"],
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
        try waitUntil("READY=1") { socket.lines.contains("READY=1") }
        try spool.submit("hello.yaml", TestSpool.job(seeds: [1, 2]))
        try waitUntil("hello in done/") { spool.list("done") == ["hello"] }
        try waitUntil("two WATCHDOG=1") { socket.lines.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        let statuses = socket.lines.filter { $0.hasPrefix("STATUS=") }
        XCTAssertTrue(statuses.contains { $0.hasPrefix("STATUS=hello: denoising video 1/2, step ") }, "\(statuses)")
        XCTAssertTrue(statuses.contains { $0.hasPrefix("STATUS=hello: decoding video 2/2") }, "\(statuses)")

        // SIGHUP: the reloaded config adds a model, announced as RELOADING=1 … READY=1.
        try spool.writeConfig(models: [TestSpool.tinyModel("tiny"), TestSpool.tinyModel("other")])
        let before = socket.lines.count
        daemon.signal(SIGHUP)
        try waitUntil("RELOADING=1 then READY=1") {
            let after = socket.lines.dropFirst(before)
            guard let reloading = after.firstIndex(of: "RELOADING=1") else { return false }
            return after[reloading...].contains("READY=1")
        }
        XCTAssertTrue(socket.lines.dropFirst(before).contains { $0.hasPrefix("MONOTONIC_USEC=") })
        try spool.submit("other.yaml", "version: 1\nmodel: other\nclass: 4\n")
        try waitUntil("other in done/") { spool.list("done") == ["hello", "other"] }

        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
        try waitUntil("STOPPING=1") { socket.lines.contains("STOPPING=1") }
        let ready = socket.messages.first { $0.hasPrefix("READY=1") } ?? ""
        XCTAssertTrue(ready.hasPrefix("READY=1\nSTATUS="), "READY=1 comes with a STATUS line: \(ready)")
    }
}
