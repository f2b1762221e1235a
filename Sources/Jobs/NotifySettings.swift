// NotifySettings: the `notify:` section of the config: commands the daemon runs when a job ends and
// when the queue drains (the night's batch is done). Each command is an argument vector, run without a
// shell; the facts go in environment variables and as JSON on its stdin (README, "Notifications").

import Foundation

/// How a job ended, as notifications name it.
public enum JobEnding: String, Sendable, Codable, CaseIterable {
    case done, failed, cancelled
}

/// `notify:` settings.
public struct NotifySettings: Sendable, Codable, Equatable {
    /// Run when a job ends with one of `on` (nil: nothing is run).
    public var jobEnd: [String]?
    /// Run when the last job the daemon knows of has ended and nothing waits (nil: nothing is run).
    public var queueDrained: [String]?
    /// The endings that run `job_end`.
    public var on: Set<JobEnding> = Set(JobEnding.allCases)
    /// Seconds a command may run before it is stopped (SIGTERM, then SIGKILL).
    public var timeoutSeconds: Double = 30

    public init() {}

    /// True when no command is configured.
    public var isEmpty: Bool { jobEnd == nil && queueDrained == nil }

    static let keys = ["job_end", "queue_drained", "on", "timeout_seconds"]

    /// Reads a `notify:` mapping; problems go to the reader's sink.
    static func read(_ node: YAMLNode, reader: NodeReader) -> NotifySettings {
        var s = NotifySettings()
        guard let m = reader.mapping(node, known: keys, what: "'notify'") else { return s }
        if let n = m["job_end"] { s.jobEnd = readCommand(n.value, key: "job_end", reader: reader) }
        if let n = m["queue_drained"] { s.queueDrained = readCommand(n.value, key: "queue_drained", reader: reader) }
        if let n = m["on"] {
            if case .sequence(let items) = n.value.content, !items.isEmpty {
                let names = JobEnding.allCases.map(\.rawValue)
                s.on = Set(items.compactMap { reader.choice($0, key: "on", names).flatMap(JobEnding.init) })
            } else {
                reader.sink.error(
                    n.value.mark, "'on' must be a list of job endings",
                    hint: "for example [failed, cancelled]; the endings are done, failed and cancelled")
            }
        }
        if let n = m["timeout_seconds"], let v = reader.double(n.value, key: "timeout_seconds", in: 0.1...86_400) {
            s.timeoutSeconds = v
        }
        return s
    }

    /// A command: a non-empty list of strings, the first an absolute path or a program name looked up
    /// on the daemon's PATH. A single string is refused: with no shell to split it, "mail -s x" would be
    /// one program name.
    private static func readCommand(_ node: YAMLNode, key: String, reader: NodeReader) -> [String]? {
        guard case .sequence(let items) = node.content, !items.isEmpty else {
            reader.sink.error(
                node.mark, "'\(key)' must be a command as a list of arguments",
                hint: "for example [/usr/bin/curl, -fsS, --data-binary, \"@-\", https://hooks.example/skipdit]; "
                    + "it runs without a shell")
            return nil
        }
        let words = items.compactMap { reader.string($0, key: key) }
        guard words.count == items.count else { return nil }
        guard let program = words.first, !program.isEmpty, !program.contains(" ") || program.hasPrefix("/") else {
            reader.sink.error(
                items[0].mark, "'\(key)' starts with '\(words.first ?? "")', not a program",
                hint: "the first item is the program (a path or a name on PATH); each argument is its own item")
            return nil
        }
        return words
    }
}
