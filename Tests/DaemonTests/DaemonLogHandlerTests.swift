// DaemonLogHandlerTests: log lines carry the job id first; under journald they start with the syslog
// priority (continuation lines too), elsewhere with a UTC timestamp and the level.

import Daemon
import Foundation
import Logging
import XCTest

final class DaemonLogHandlerTests: XCTestCase {
    func testJournaldLinesCarryPriorityAndJobTag() {
        let line = DaemonLogHandler.format(
            level: .warning, message: "invalid job:\nbad.yaml:1:1: error", metadata: ["job": "bad", "attempt": "2"],
            label: "skipdit", journal: true, date: Date())
        XCTAssertEqual(line, "<4>[bad] invalid job:\n<4>    bad.yaml:1:1: error attempt=2\n")
        XCTAssertEqual(
            DaemonLogHandler.format(
                level: .info, message: "idle", metadata: [:], label: "skipdit", journal: true, date: Date()),
            "<6>idle\n")
        XCTAssertTrue(
            DaemonLogHandler.format(
                level: .critical, message: "x", metadata: [:], label: "l", journal: true, date: Date()
            )
            .hasPrefix("<2>"))
    }

    func testTerminalLinesCarryTimestampAndLevel() {
        let date = Date(timeIntervalSince1970: 1_700_000_000.25)
        let line = DaemonLogHandler.format(
            level: .notice, message: "done", metadata: ["job": "a"], label: "skipdit.spool", journal: false, date: date)
        XCTAssertEqual(line, "2023-11-14T22:13:20.250Z NOTICE [a] done (skipdit.spool)\n")
    }

    func testSharedLevelFollowsReloads() {
        let setting = LogLevelSetting(.info)
        var handler = DaemonLogHandler(label: "skipdit", setting: setting, journal: true)
        XCTAssertEqual(handler.logLevel, .info)
        setting.level = .debug
        XCTAssertEqual(handler.logLevel, .debug)
        handler.logLevel = .error
        setting.level = .trace
        XCTAssertEqual(handler.logLevel, .error, "a level set on one logger overrides the shared one")
        XCTAssertEqual(LogLevelSetting.level(named: "warning"), .warning)
        XCTAssertNil(LogLevelSetting.level(named: "loud"))
    }
}
