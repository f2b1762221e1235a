// WatcherTests: inotify wake-ups when a job file is moved or written into incoming/, and rescans alone.

import Foundation
import Spool
import XCTest

final class WatcherTests: XCTestCase {
    /// The first wake-up within `timeout` seconds (nil when none).
    private func nextWake(_ watcher: SpoolWatcher, timeout: TimeInterval) async -> SpoolWake? {
        await withTaskGroup(of: SpoolWake?.self) { group in
            group.addTask {
                for await wake in watcher.wakes { return wake }
                return nil
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    func testInotifyWakesOnMoveInAndCloseWrite() async throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        let watcher = try SpoolWatcher(directory: spool.incoming, rescanInterval: 600)
        defer { watcher.stop() }
        XCTAssertTrue(watcher.usesInotify)
        try Data("x".utf8).write(to: spool.incoming.appendingPathComponent(".partial.yaml"))  // ignored
        try SpoolTest.submit(spool, "moved.yaml")
        let first = await nextWake(watcher, timeout: 5)
        XCTAssertEqual(first, .arrived("moved.yaml"))
        try Data("y".utf8).write(to: spool.incoming.appendingPathComponent("written.yml"))  // IN_CLOSE_WRITE
        let second = await nextWake(watcher, timeout: 5)
        XCTAssertEqual(second, .arrived("written.yml"))
        watcher.poke()
        var third = await nextWake(watcher, timeout: 5)
        while third == .arrived("written.yml") { third = await nextWake(watcher, timeout: 5) }  // repeated events
        XCTAssertEqual(third, .rescan)
    }

    func testRescanWithoutInotify() async throws {
        let spool = try SpoolTest.spool(try SpoolTest.temporaryDirectory())
        let watcher = try SpoolWatcher(directory: spool.incoming, rescanInterval: 0.1, useInotify: false)
        XCTAssertFalse(watcher.usesInotify)
        try SpoolTest.submit(spool, "nfs.yaml")
        let started = Date()
        let wake = await nextWake(watcher, timeout: 5)
        XCTAssertEqual(wake, .rescan)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertEqual(try spool.claimNext(priority: { _ in 0 })?.id, "nfs")
        watcher.stop()
        var count = 0
        for await _ in watcher.wakes { count += 1 }  // the stream ends after stop()
        XCTAssertLessThan(count, 64)
    }
}
