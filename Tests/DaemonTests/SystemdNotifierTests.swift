// SystemdNotifierTests: sd_notify datagrams arrive on a real AF_UNIX socket (path and abstract), and the
// watchdog interval follows WATCHDOG_USEC / WATCHDOG_PID.

import Daemon
import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A bound AF_UNIX datagram socket that receives what the notifier sends.
private final class DatagramReceiver {
    let fd: Int32
    let address: String

    init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no AF_UNIX sockets") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: path) }
        let length = 2 + path.count + (path[0] == 0 ? 0 : 1)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        XCTAssertEqual(bound, 0, "bind \(address): errno \(errno)")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n < 0 ? nil : String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

final class SystemdNotifierTests: XCTestCase {
    func testMessagesArriveOnPathSocket() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sdnotify-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let receiver = try DatagramReceiver(address: dir.appendingPathComponent("notify").path)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        XCTAssertTrue(notifier.isEnabled)
        try notifier.ready(status: "idle, 0 queued")
        XCTAssertEqual(receiver.receive(), "READY=1\nSTATUS=idle, 0 queued\n")
        try notifier.status("rendering biking 7/50\nETA 1:20")
        XCTAssertEqual(receiver.receive(), "STATUS=rendering biking 7/50 ETA 1:20\n")
        try notifier.watchdog()
        XCTAssertEqual(receiver.receive(), "WATCHDOG=1\n")
        try notifier.reloading()
        let reload = try XCTUnwrap(receiver.receive())
        XCTAssertTrue(reload.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), reload)
        try notifier.stopping()
        XCTAssertEqual(receiver.receive(), "STOPPING=1\n")
    }

    func testMessagesArriveOnAbstractSocket() throws {
        let receiver = try DatagramReceiver(address: "@skipdit-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        try notifier.ready()
        XCTAssertEqual(receiver.receive(), "READY=1\n")
    }

    func testNoSocketIsANoOp() throws {
        let notifier = SystemdNotifier(environment: [:])
        XCTAssertFalse(notifier.isEnabled)
        XCTAssertNil(notifier.watchdogInterval)
        XCTAssertNoThrow(try notifier.ready())
        XCTAssertNoThrow(try notifier.watchdog())
    }

    func testBadAddressAndMissingSocketAreErrors() {
        XCTAssertThrowsError(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).ready()) { error in
            XCTAssertEqual(error as? SystemdNotifyError, .badAddress("relative/path"))
        }
        XCTAssertThrowsError(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/skipdit/notify"]).ready())
    }

    func testWatchdogIntervalIsHalfOfWatchdogUsec() {
        XCTAssertEqual(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval, 15)
        let mine = ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid())"]
        XCTAssertEqual(SystemdNotifier(environment: mine).watchdogInterval, 2)
        let other = ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid() + 1)"]
        XCTAssertNil(SystemdNotifier(environment: other).watchdogInterval, "the watchdog is for another process")
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval)
    }
}
