// ExecutorSettings: the `executor:` section of the config: where a claimed job's videos are rendered.
// `local` (the default) renders them in the daemon, one job at a time; `slurm` submits each job as one
// `sbatch --array` (one task per video) to the cluster's Slurm and tracks it (README, "Running on a
// Slurm cluster"). Everything Slurm-specific is checked here, when the config is read, so a typo in a
// partition's time limit or a pass-through argument is a config error with its line, not a failed
// submission at night.

import Foundation

/// Where videos are rendered.
public enum ExecutorKind: String, Sendable, Codable, CaseIterable {
    case local, slurm
}

/// `executor:` settings.
public struct ExecutorSettings: Sendable, Codable, Equatable {
    public var kind: ExecutorKind = .local
    /// `--partition` (nil: the cluster's default partition).
    public var partition: String?
    /// `--account`, `--qos`, `--constraint` (nil: not passed).
    public var account: String?
    public var qos: String?
    public var constraint: String?
    /// `--time` per video (one array task), as Slurm writes it ("02:00:00", "1-00:00:00", "90").
    public var timeLimit: String?
    /// `--cpus-per-task`; the task renders with this many threads, so its videos are bit-identical to a
    /// local render with `compute.threads` set to it.
    public var cpusPerTask: Int = 2
    /// `--mem` ("16G"; nil: the partition's default).
    public var mem: String?
    /// Runs of one video's task that may end in a failure state (FAILED, TIMEOUT, NODE_FAIL,
    /// OUT_OF_MEMORY, ...) before its job fails; each failure is requeued until then.
    public var maxAttempts: Int = 3
    /// Array tasks of this daemon allowed to run at once over all its jobs (`--array=...%K`).
    public var maxInFlight: Int = 8
    /// Extra sbatch arguments, verbatim (each must be one option; the ones skipdit sets are refused).
    public var sbatchArgs: [String] = []
    /// Seconds before the time limit at which Slurm sends SIGUSR1 (`--signal=B:USR1@N`): the task saves
    /// its render state at the next step boundary and requeues itself.
    public var signalMarginSeconds: Int = 300
    /// Seconds between polls of squeue/scontrol while nothing changes (a first poll comes sooner; an
    /// unreachable controller is retried with a growing pause up to ten times this).
    public var pollSeconds: Double = 15
    /// The skipdit binary on the compute nodes (nil: the daemon's own executable path).
    public var binary: String?

    /// Local execution.
    public init() {}

    static let keys = [
        "kind", "partition", "account", "qos", "constraint", "time_limit", "cpus_per_task", "mem", "max_attempts",
        "max_in_flight", "sbatch_args", "signal_margin_seconds", "poll_seconds", "binary",
    ]

    /// Options skipdit sets on every submission; `sbatch_args` may not hold them.
    public static let reservedOptions = [
        "--array", "-a", "--job-name", "-J", "--comment", "--output", "-o", "--error", "-e", "--requeue",
        "--no-requeue", "--open-mode", "--signal", "--parsable", "--wrap", "--cpus-per-task", "-c",
    ]

    /// True when the executor key `key` was given (so its sbatch option is skipdit's to set).
    func sets(_ key: String) -> Bool {
        switch key {
        case "partition": return partition != nil
        case "account": return account != nil
        case "qos": return qos != nil
        case "constraint": return constraint != nil
        case "time_limit": return timeLimit != nil
        case "mem": return mem != nil
        default: return true
        }
    }

    /// The executor key that sets an sbatch option.
    static let optionKeys = [
        "--partition": "partition", "-p": "partition", "--account": "account", "-A": "account", "--qos": "qos",
        "-q": "qos", "--constraint": "constraint", "-C": "constraint", "--time": "time_limit", "-t": "time_limit",
        "--mem": "mem", "--cpus-per-task": "cpus_per_task", "-c": "cpus_per_task", "--signal": "signal_margin_seconds",
    ]

    /// Seconds of a Slurm time string: "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S" (nil if malformed
    /// or zero; "UNLIMITED"/"INFINITE" are refused too: a limit that never comes sends no signal).
    public static func seconds(ofTimeLimit text: String) -> Int? {
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2 else { return nil }
        var days = 0
        var rest = Substring(text)
        if dayParts.count == 2 {
            guard let d = Int(dayParts[0]), d >= 0 else { return nil }
            days = d
            rest = dayParts[1]
        }
        let fields = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(fields.count), fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }) else {
            return nil
        }
        let numbers = fields.compactMap { Int($0) }
        guard numbers.count == fields.count, numbers.allSatisfy({ $0 >= 0 && $0 < 1_000_000 }) else { return nil }
        let seconds: Int
        if dayParts.count == 2 {  // D-H, D-H:M, D-H:M:S
            let hms = numbers + Array(repeating: 0, count: 3 - numbers.count)
            seconds = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
        } else {
            switch numbers.count {
            case 1: seconds = numbers[0] * 60
            case 2: seconds = numbers[0] * 60 + numbers[1]
            default: seconds = numbers[0] * 3600 + numbers[1] * 60 + numbers[2]
            }
        }
        return seconds > 0 ? seconds : nil
    }

    /// Reads an `executor:` mapping; problems go to the reader's sink.
    static func read(_ node: YAMLNode, reader: NodeReader) -> ExecutorSettings {
        var s = ExecutorSettings()
        guard let m = reader.mapping(node, known: keys, what: "'executor'") else { return s }
        if let n = m["kind"], let v = reader.choice(n.value, key: "kind", ExecutorKind.allCases.map(\.rawValue)) {
            s.kind = ExecutorKind(rawValue: v) ?? .local
        }
        let names: [(String, WritableKeyPath<ExecutorSettings, String?>)] = [
            ("partition", \.partition), ("account", \.account), ("qos", \.qos), ("constraint", \.constraint),
        ]
        for (key, path) in names {
            guard let n = m[key], let v = reader.string(n.value, key: key, allowEmpty: false) else { continue }
            if let bad = v.unicodeScalars.first(where: {
                $0.properties.isWhitespace || $0.value < 0x20 || $0 == "\u{7F}"
            }) {
                reader.sink.error(
                    n.value.mark, "'\(key)' holds the character U+\(String(bad.value, radix: 16, uppercase: true))",
                    hint: "a Slurm \(key) name has no spaces or control characters")
                continue
            }
            s[keyPath: path] = v
        }
        if let n = m["time_limit"], let v = reader.string(n.value, key: "time_limit", allowEmpty: false) {
            if seconds(ofTimeLimit: v) != nil {
                s.timeLimit = v
            } else {
                reader.sink.error(
                    n.value.mark, "'time_limit' is '\(v)', not a Slurm time limit",
                    hint: "write minutes (\"90\"), \"HH:MM:SS\" or \"D-HH:MM:SS\", quoted")
            }
        }
        if let n = m["cpus_per_task"], let v = reader.int(n.value, key: "cpus_per_task", in: 1...4096) {
            s.cpusPerTask = v
        }
        if let n = m["mem"], let v = reader.string(n.value, key: "mem", allowEmpty: false) {
            if isMemory(v) {
                s.mem = v
            } else {
                reader.sink.error(
                    n.value.mark, "'mem' is '\(v)', not a Slurm memory size",
                    hint: "write a number with an optional unit K, M, G or T, e.g. 16G")
            }
        }
        if let n = m["max_attempts"], let v = reader.int(n.value, key: "max_attempts", in: 1...100) {
            s.maxAttempts = v
        }
        if let n = m["max_in_flight"], let v = reader.int(n.value, key: "max_in_flight", in: 1...100_000) {
            s.maxInFlight = v
        }
        if let n = m["signal_margin_seconds"],
            let v = reader.int(n.value, key: "signal_margin_seconds", in: 1...65_535, hint: "Slurm allows up to 65535")
        {
            s.signalMarginSeconds = v
        }
        if let n = m["poll_seconds"], let v = reader.double(n.value, key: "poll_seconds", in: 0.1...3600) {
            s.pollSeconds = v
        }
        if let n = m["binary"], let v = reader.string(n.value, key: "binary", allowEmpty: false) {
            if v.hasPrefix("/") {
                s.binary = v
            } else {
                reader.sink.error(
                    n.value.mark, "'binary' is '\(v)', not an absolute path",
                    hint: "give the skipdit binary's path on the compute nodes, e.g. /usr/bin/skipdit")
            }
        }
        if let n = m["sbatch_args"] { s.sbatchArgs = readArguments(n.value, reader: reader, settings: s) }
        if let limit = s.timeLimit.flatMap(seconds(ofTimeLimit:)), limit <= s.signalMarginSeconds {
            reader.sink.error(
                (m["signal_margin_seconds"] ?? m["time_limit"])?.value.mark ?? node.mark,
                "'signal_margin_seconds' (\(s.signalMarginSeconds)) must be shorter than 'time_limit' (\(limit) s)",
                hint: "the task is told to save its state this long before its time runs out")
        }
        return s
    }

    /// "16G", "4096", "512M" (Slurm's --mem: a whole number with an optional K/M/G/T suffix).
    static func isMemory(_ text: String) -> Bool {
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.count <= 12 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `sbatch_args`: a sequence of strings, each one option ("--qos=batch", "--exclusive").
    /// An option that an executor key sets too (`--qos` with `qos:`) is refused, so the two cannot
    /// disagree; without the key it passes through.
    private static func readArguments(_ node: YAMLNode, reader: NodeReader, settings: ExecutorSettings) -> [String] {
        guard case .sequence(let items) = node.content else {
            reader.typeError(node, key: "sbatch_args", expected: "a list of strings")
            return []
        }
        var arguments: [String] = []
        for item in items {
            guard let text = reader.string(item, key: "sbatch_args", allowEmpty: false) else { continue }
            let option = String(text.split(separator: "=", maxSplits: 1).first ?? "")
            if !text.hasPrefix("-") {
                reader.sink.error(
                    item.mark, "sbatch argument '\(text)' is not an option",
                    hint: "write each option with its value as one item, e.g. \"--qos=batch\"")
            } else if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" }) {
                reader.sink.error(item.mark, "sbatch argument '\(text)' holds a control character", hint: "remove it")
            } else if reservedOptions.contains(option) {
                let key = optionKeys[option]
                reader.sink.error(
                    item.mark, "sbatch argument '\(option)' is set by skipdit",
                    hint: key.map { "use the executor key '\($0)'" } ?? "remove it; skipdit sets it for every task")
            } else if let key = optionKeys[option], settings.sets(key) {
                reader.sink.error(
                    item.mark, "sbatch argument '\(option)' repeats the executor key '\(key)'",
                    hint: "keep one of the two")
            } else {
                arguments.append(text)
            }
        }
        return arguments
    }
}
