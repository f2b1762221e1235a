// SpoolDirectory+History: what the queue controls leave in a job's folder: one history record per event
// (history.<n>.yaml, published with link(2) so concurrent writers never replace one another), a line
// in the job's log (job.log, appended with O_APPEND), and a wake-up for the daemons (a short-lived
// dotfile in incoming/, which inotify reports). Also finding a job by id in any state.

import Foundation
import Jobs

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a job is in the spool.
public enum JobLocation: Sendable, Equatable {
    /// A file in incoming/, not claimed yet.
    case incoming(URL)
    /// processing/<id>/ (running, queued again, held or backing off).
    case processing(URL)
    /// done/<id>/
    case done(URL)
    /// failed/<id>/
    case failed(URL)

    /// The job's folder (nil for a file in incoming/).
    public var directory: URL? {
        switch self {
        case .incoming: return nil
        case let .processing(url), let .done(url), let .failed(url): return url
        }
    }

    /// "queued in incoming/", "in processing/", "done", "failed".
    public var name: String {
        switch self {
        case .incoming: return "queued in incoming/"
        case .processing: return "in processing/"
        case .done: return "done"
        case .failed: return "failed"
        }
    }
}

extension SpoolDirectory {
    /// The name of a job's log in its folder (job.log).
    public static let jobLogFileName = SpoolLayout.logFile

    /// Finds a job by id (or, in incoming/, by file name or stem); nil when it is nowhere.
    public func locate(jobID: String) throws -> JobLocation? {
        guard SpoolLayout.isValidJobID(jobID) else { throw SpoolError.invalidJobID(jobID) }
        for _ in 0..<3 {  // a job may move between two looks (claimed, finished): look again
            let directory = processing.appendingPathComponent(jobID, isDirectory: true)
            if FileOps.lstatInfo(directory)?.kind == .directory { return .processing(directory) }
            if let file = try incomingFile(matching: jobID) { return .incoming(file) }
            for (parent, make) in [(done, JobLocation.done), (failed, JobLocation.failed)] {
                let url = parent.appendingPathComponent(jobID, isDirectory: true)
                if FileOps.lstatInfo(url)?.kind == .directory { return make(url) }
            }
        }
        return nil
    }

    /// The job file in incoming/ whose name, stem or job id is `jobID`.
    func incomingFile(matching jobID: String) throws -> URL? {
        let name = try FileOps.list(incoming).first { name in
            SpoolLayout.kind(ofIncoming: name) == .job
                && (name == jobID || SpoolLayout.stem(of: name) == jobID
                    || SpoolLayout.jobID(forFileName: name) == jobID)
        }
        return name.map { incoming.appendingPathComponent($0) }
    }

    /// Appends a history record (`event`, time, host, pid, then `fields`) to a job folder.
    func recordEvent(_ event: String, _ fields: [(String, YAMLValue)] = [], in directory: URL) throws {
        let record: [(String, YAMLValue)] =
            [
                ("event", .string(event)), ("at", .string(Timestamp.format(Date()))),
                ("host", .string(identity.host)), ("pid", .int(Int(identity.pid))),
            ] + fields
        let data = Data(RecordYAML.emit(record).utf8)
        var n = (try FileOps.list(directory).compactMap(SpoolLayout.historyNumber).max() ?? 0) + 1
        while !(try FileOps.publishExclusively(data, at: directory.appendingPathComponent(SpoolLayout.historyFile(n))))
        {
            n += 1
        }
    }

    /// The history records of a job folder, oldest first.
    public func history(in directory: URL) throws -> [[String: YAMLValue]] {
        let numbers = try FileOps.list(directory).compactMap(SpoolLayout.historyNumber).sorted()
        return try numbers.compactMap { n in
            try readResult(directory.appendingPathComponent(SpoolLayout.historyFile(n)))
        }
    }

    /// Appends one line (a timestamp and `level` are added) to the job's log; failures are ignored
    /// (the log is a convenience, the history records are the truth).
    func appendLog(_ message: String, level: String = "NOTICE", in directory: URL) {
        let line = "\(Timestamp.format(Date())) \(level) [\(directory.lastPathComponent)] \(message)\n"
        let url = directory.appendingPathComponent(SpoolLayout.logFile)
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// "skipdit <command> (pid N on HOST)", for logs.
    func commandTag(_ command: String) -> String { "skipdit \(command) (pid \(identity.pid) on \(identity.host))" }

    /// Wakes the daemons watching incoming/ (inotify sees the dotfile; it is removed at once).
    public func wakeDaemons() {
        let url = incoming.appendingPathComponent(
            "\(SpoolLayout.wakePrefix)\(identity.pid).\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        close(fd)
        unlink(url.path)
    }
}
