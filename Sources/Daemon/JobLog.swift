// JobLog: the per-job log, processing/<id>/job.log. Every line the daemon logs about a job goes to the
// daemon's own log as before and is appended to this file too, in the terminal format (UTC timestamp,
// level, [job]). The file is opened once per attempt with O_APPEND and written through that one
// descriptor, which follows the folder when it moves to done/ or failed/, so the last lines ("done →
// ...") land in the same file. The commands that touch a job (hold, release, retry, priority) append
// their own line to it (Spool's appendLog).

import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An append-only log file (thread-safe); a file that cannot be opened or written is skipped silently
/// (the daemon's log still has every line).
final class JobLogFile: @unchecked Sendable {
    /// The file name in the job folder.
    static let name = "job.log"

    private let lock = NSLock()
    private var fd: Int32

    /// Opens (creates) `directory/job.log` for appending.
    init(directory: URL) {
        fd = open(directory.appendingPathComponent(Self.name).path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }

    /// Appends `line` (which ends with a newline) in one write.
    func append(_ line: String) {
        lock.withLock {
            guard fd >= 0 else { return }
            let bytes = Array(line.utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    /// Closes the file; later lines are dropped.
    func finish() {
        lock.withLock {
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    deinit { finish() }
}

/// A log handler that passes every message on to `inner` (the daemon's logger) and appends it to a
/// job's log file.
struct JobLogHandler: LogHandler {
    let inner: Logger
    let file: JobLogFile
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set {}  // the daemon's level (changed by a reload) rules both
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var extra = metadata
        if let given = event.metadata { extra.merge(given) { $1 } }
        inner.log(
            level: event.level, event.message, metadata: extra.isEmpty ? nil : extra, source: event.source,
            file: event.file, function: event.function, line: event.line)
        var merged = inner.handler.metadata
        merged.merge(extra) { $1 }
        file.append(
            DaemonLogHandler.format(
                level: event.level, message: event.message.description, metadata: merged, label: "skipdit",
                journal: false, date: Date()))
    }

    /// `logger` (which carries the job's metadata) with every line also going to `file`.
    static func logger(_ logger: Logger, file: JobLogFile) -> Logger {
        Logger(label: logger.label) { _ in JobLogHandler(inner: logger, file: file) }
    }
}
