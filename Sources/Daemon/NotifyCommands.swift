// NotifyCommands: runs the config's `notify:` commands when a job ends and when the queue drains. A command
// is an argument vector run without a shell, with the daemon's environment plus SKIPDIT_* facts, the
// same facts as one JSON object on its stdin (for `curl --data-binary @-`), and a deadline. Commands run
// one after another, in the order of their events (so "the queue drained" comes after the last job's
// end), on their own queue after the job is in done/ or failed/: neither a failure nor slowness touches
// the job or the render; a failure is logged.

import Foundation
import Jobs
import Logging
import Processes

final class NotifyCommands: @unchecked Sendable {
    private let lock = NSLock()
    /// Endings since the last queue-drained notification, and when the first of them began.
    private var batch: [JobEnding: Int] = [:]
    private var batchStarted: Date?
    /// Commands still running (tests and shutdown wait for them).
    private let running = DispatchGroup()
    /// Runs the commands in event order.
    private let queue = DispatchQueue(label: "skipdit.notify")

    init() {}

    /// Notes that a job began (the batch's clock starts with its first job).
    func jobBegan() {
        lock.withLock { if batchStarted == nil { batchStarted = Date() } }
    }

    /// A job ended in `directory` (done/ or failed/) with `record` (its result fields).
    func jobEnded(
        _ job: String, ending: JobEnding, reason: String?, directory: URL, record: YAMLValue,
        settings: NotifySettings, logger: Logger
    ) {
        lock.withLock { batch[ending, default: 0] += 1 }
        guard let command = settings.jobEnd, settings.on.contains(ending) else { return }
        let outputs = Self.outputs(of: record)
        var facts: [(String, FactValue)] = [
            ("event", .text("job_end")), ("job", .text(job)), ("status", .text(ending.rawValue)),
            ("reason", .text(reason ?? "")), ("job_dir", .text(directory.path)),
            ("result", .text(directory.appendingPathComponent("result.yaml").path)),
            ("videos", .number(Double(outputs.count))), ("outputs", .list(outputs)),
        ]
        if let seconds = Self.totalSeconds(of: record) { facts.append(("seconds", .number(seconds))) }
        launch(command, facts: facts, settings: settings, logger: logger)
    }

    /// Called when nothing runs and nothing waits: notifies once per batch of ended jobs.
    func queueIsEmpty(settings: NotifySettings, logger: Logger) {
        let ended: [JobEnding: Int]
        let started: Date?
        (ended, started) = lock.withLock {
            defer {
                batch = [:]
                batchStarted = nil
            }
            return (batch, batchStarted)
        }
        guard !ended.isEmpty, let command = settings.queueDrained else { return }
        var facts: [(String, FactValue)] = [("event", .text("queue_drained"))]
        for ending in JobEnding.allCases { facts.append((ending.rawValue, .number(Double(ended[ending] ?? 0)))) }
        if let started { facts.append(("seconds", .number(Date().timeIntervalSince(started)))) }
        launch(command, facts: facts, settings: settings, logger: logger)
    }

    /// Waits until every launched command has finished (or `timeout` passed); false on timeout.
    @discardableResult
    func waitForCommands(timeout: Double) -> Bool { running.wait(timeout: .now() + timeout) == .success }

    /// A fact's value: environment variables get text (lists one item per line); JSON keeps the type.
    enum FactValue {
        case text(String)
        case number(Double)
        case list([String])

        var environment: String {
            switch self {
            case let .text(s): return s
            case let .number(n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(format: "%.3f", n)
            case let .list(items): return items.joined(separator: "\n")
            }
        }

        var json: Any {
            switch self {
            case let .text(s): return s
            case let .number(n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) as Any : n as Any
            case let .list(items): return items
            }
        }
    }

    /// Runs `command` on the notification queue.
    private func launch(_ command: [String], facts: [(String, FactValue)], settings: NotifySettings, logger: Logger) {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : ""
        let facts = facts + [("host", .text(host))]
        var daemonEnvironment = ProcessInfo.processInfo.environment
        for (key, value) in facts { daemonEnvironment["SKIPDIT_" + key.uppercased()] = value.environment }
        let environment = daemonEnvironment
        let object = Dictionary(uniqueKeysWithValues: facts.map { ($0.0, $0.1.json) })
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) + "\n" } ?? "{}\n"
        let event = facts.first.map { $0.1.environment } ?? "notify"
        running.enter()
        queue.async { [running] in
            defer { running.leave() }
            do {
                let path = try ChildProcess.locate(command[0], searchPath: ChildProcess.searchPath(environment))
                let output = try ChildProcess.run(
                    path, Array(command.dropFirst()), environment: environment, input: json,
                    timeout: settings.timeoutSeconds)
                if output.status == 0 {
                    logger.info("notify \(event): \(command[0]) ran")
                } else {
                    let said = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500)
                    logger.warning("notify \(event): \(command[0]) exited with status \(output.status): \(said)")
                }
            } catch {
                logger.warning("notify \(event): \(error)")
            }
        }
    }

    /// The video files of a result record (`videos[].file`).
    static func outputs(of record: YAMLValue) -> [String] {
        guard case let .sequence(videos)? = field("videos", of: record) else { return [] }
        return videos.compactMap { if case let .string(path)? = field("file", of: $0) { path } else { nil } }
    }

    /// The record's `timings.total`.
    private static func totalSeconds(of record: YAMLValue) -> Double? {
        guard let timings = field("timings", of: record) else { return nil }
        switch field("total", of: timings) {
        case let .double(d)?: return d
        case let .int(i)?: return Double(i)
        default: return nil
        }
    }

    private static func field(_ key: String, of value: YAMLValue) -> YAMLValue? {
        guard case let .mapping(pairs) = value else { return nil }
        return pairs.first { $0.0 == key }?.1
    }
}
