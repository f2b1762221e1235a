// DaemonLogHandler: swift-log to stderr, one line per message. Under systemd (JOURNAL_STREAM set) each
// line starts with the syslog priority (`<6>`) so journald files it at the right level and adds its
// own timestamp; on a terminal or in a file the line starts with a UTC timestamp and the level. The
// `job` metadata comes first so every line of a render is tagged with its job id.

import Foundation
import Logging

/// The daemon's log level, shared by every handler so that a SIGHUP reload changes it everywhere.
public final class LogLevelSetting: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Logger.Level

    /// Starts at `level`.
    public init(_ level: Logger.Level) { current = level }

    /// The level in force.
    public var level: Logger.Level {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    /// The swift-log level of a config name (trace … critical); nil for other names.
    public static func level(named name: String) -> Logger.Level? { Logger.Level(rawValue: name) }
}

/// Writes log lines to stderr (see the file comment for the format).
public struct DaemonLogHandler: LogHandler {
    /// The shared level (a level set on one logger overrides it for that logger only).
    public let setting: LogLevelSetting
    /// True: journald format (`<priority>` prefix, no timestamp).
    public let journal: Bool
    private let label: String
    private var override: Logger.Level?

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level {
        get { override ?? setting.level }
        set { override = newValue }
    }

    /// A handler for `label`; `journal` picks the journald format.
    public init(label: String, setting: LogLevelSetting, journal: Bool) {
        self.label = label
        self.setting = setting
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.format(
            level: event.level, message: event.message.description, metadata: merged, label: label,
            journal: journal, date: Date())
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// One log line (ending in a newline): the job tag, the message, then the other metadata sorted.
    public static func format(
        level: Logger.Level, message: String, metadata: Logger.Metadata, label: String, journal: Bool, date: Date
    ) -> String {
        var line = journal ? "<\(priority(level))>" : "\(timestamp(date)) \(level.rawValue.uppercased()) "
        if let job = metadata["job"] { line += "[\(job)] " }
        // journald splits lines: each continuation line carries the priority again.
        line += message.replacingOccurrences(of: "\n", with: journal ? "\n<\(priority(level))>    " : "\n    ")
        let rest = metadata.filter { $0.key != "job" }.sorted { $0.key < $1.key }
        if !rest.isEmpty { line += " " + rest.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        if !journal && label != "skipdit" { line += " (\(label))" }
        return line + "\n"
    }

    /// The syslog priority journald expects for a level.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
