// SpoolTestSupport: temp spools, job files and file counting for the spool tests.

import Foundation
import Spool
import XCTest

enum SpoolTest {
    /// A fresh empty directory under the temp directory.
    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("skipdit-spool-tests", isDirectory: true)
            .appendingPathComponent("\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        return base
    }

    /// A spool with test timings (no stability wait unless given).
    static func spool(
        _ root: URL, stability: TimeInterval = 0, staleAfter: TimeInterval = 60, maxAttempts: Int = 10,
        identity: ProcessIdentity = .current()
    ) throws -> SpoolDirectory {
        try SpoolDirectory(
            root: root,
            configuration: SpoolConfiguration(
                stabilityInterval: stability, staleAfter: staleAfter, maxAttempts: maxAttempts),
            identity: identity)
    }

    /// Writes a job file into incoming/ (via a temp file and rename, as users should) with a priority
    /// line and an mtime `age` seconds in the past.
    @discardableResult
    static func submit(_ spool: SpoolDirectory, _ name: String, priority: Int = 0, age: TimeInterval = 0) throws -> URL
    {
        let url = spool.incoming.appendingPathComponent(name)
        let temp = spool.root.appendingPathComponent(".tmp-\(name)")
        try Data("version: 1\npriority: \(priority)\nname: \(name)\n".utf8).write(to: temp)
        if age != 0 {
            let date = Date().addingTimeInterval(-age)
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: temp.path)
        }
        try FileManager.default.moveItem(at: temp, to: url)
        return url
    }

    /// The `priority:` line of a test job file (what the daemon's YAML parser will do).
    static func priority(_ url: URL) -> Int {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("priority:") {
            return Int(line.dropFirst("priority:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }

    /// Every job file (job.yaml anywhere, *.yaml in incoming/) in the spool, as their `name:` lines.
    static func jobNames(in spool: SpoolDirectory) throws -> [String] {
        var names: [String] = []
        let enumerator = FileManager.default.enumerator(at: spool.root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let isJob =
                url.lastPathComponent == "job.yaml"
                || (url.deletingLastPathComponent().lastPathComponent == "incoming" && url.pathExtension == "yaml")
            guard isJob, let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("name: ") {
                names.append(String(line.dropFirst(6)))
            }
        }
        return names.sorted()
    }

    /// Names in a directory (sorted).
    static func list(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    /// An identity on this host whose process does not exist.
    static var deadLocalProcess: ProcessIdentity {
        var me = ProcessIdentity.current()
        me.pid = Int32.max - 7
        me.startTime = 12345
        return me
    }

    /// An identity on another host.
    static var otherHost: ProcessIdentity {
        ProcessIdentity(
            host: "other-host.invalid", bootID: "00000000-0000-0000-0000-000000000000", pid: 4242, startTime: 77)
    }
}
