// DaemonConfig: the daemon configuration file (`skipdit serve --config FILE`, shipped as
// etc/skipdit/skipdit.yaml): spool and output folders, the model registry, compute and limits.

import Foundation

/// GEMM backend choice (mapped onto TensorCore's backends by the executable).
public enum ComputeBackend: String, Sendable, Codable, CaseIterable {
    case auto, onednn, openblas
}

/// Arithmetic precision of the transformer GEMMs.
public enum ComputePrecision: String, Sendable, Codable, CaseIterable {
    case fp32, bf16
}

/// `compute:` settings.
public struct ComputeSettings: Sendable, Codable, Equatable {
    /// GEMM backend.
    public var backend: ComputeBackend = .auto
    /// Precision.
    public var precision: ComputePrecision = .fp32
    /// Worker threads; 0: one per core.
    public var threads: Int = 0
    /// Defaults: auto, fp32, all cores.
    public init() {}
}

/// `limits:` settings; jobs beyond them are rejected at validation.
public struct Limits: Sendable, Codable, Equatable {
    /// Most frames a model may produce per video (checked by the renderer against the checkpoint).
    public var maxFrames = 32
    /// Most sampling steps per video (at most 1000).
    public var maxSteps = 1000
    /// Most seeds (videos) per job.
    public var maxVideosPerJob = 64
    /// Largest frame side in pixels (checked by the renderer against the checkpoint).
    public var maxResolution = 512
    /// Most jobs waiting in the queue.
    public var maxQueuedJobs = 1000
    /// The defaults above.
    public init() {}
}

/// `logging:` settings.
public struct LoggingSettings: Sendable, Codable, Equatable {
    /// One of trace, debug, info, notice, warning, error, critical (swift-log levels).
    public var level = "info"
    /// Default: info.
    public init() {}
    static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

/// The daemon configuration.
public struct DaemonConfig: Sendable, Codable, Equatable {
    /// The config file (diagnostics name it).
    public var file: String
    /// Spool folder (incoming/, processing/, done/, failed/ inside).
    public var spool: URL
    /// Output folder; job outputs are relative to it and never leave it.
    public var output: URL
    /// The model registry, in file order.
    public var models: [ModelEntry]
    /// Compute settings.
    public var compute: ComputeSettings
    /// Limits.
    public var limits: Limits
    /// Logging.
    public var logging: LoggingSettings
    /// Daemon timing (`daemon:`).
    public var daemon: DaemonSettings = DaemonSettings()
    /// Where videos are rendered (`executor:`; local by default).
    public var executor: ExecutorSettings = ExecutorSettings()
    /// Commands run when a job ends and when the queue drains (`notify:`; none by default).
    public var notify: NotifySettings = NotifySettings()
    /// Where the Prometheus metrics go (`metrics:`; none by default).
    public var metrics: MetricsSettings = MetricsSettings()
    /// Where each model sits in the file: "NAME" (its key) and "NAME.checkpoint", "NAME.vae",
    /// "NAME.base" (the path values); a text-to-video `vae` defaulted from `base` points at `base`.
    public var modelMarks: [String: YAMLMark] = [:]
    /// Models whose files failed a check, by name. `load` and `parse` leave it empty (Jobs reads no
    /// model files); Render's `ModelFileCheck` fills it. A job naming one of these models is refused
    /// with the problem; the other models are not affected.
    public var modelProblems: [String: ModelProblem] = [:]

    /// Where `skipdit serve` looks without `--config`.
    public static let defaultPath = "/etc/skipdit/skipdit.yaml"
    static let keys = [
        "spool", "output", "models", "compute", "limits", "logging", "daemon", "executor", "notify", "metrics",
    ]

    /// The model called `name`.
    public func model(named name: String) -> ModelEntry? { models.first { $0.name == name } }

    /// A model problem as a diagnostic of this config file, at the model's path key (else its name).
    public func diagnostic(for problem: ModelProblem) -> Diagnostic {
        let mark = modelMarks["\(problem.model).\(problem.key)"] ?? modelMarks[problem.model]
        return Diagnostic(file: file, at: mark, problem.message, hint: problem.hint)
    }

    /// The diagnostics of `modelProblems`, in registry order.
    public var modelDiagnostics: [Diagnostic] {
        models.compactMap { entry in modelProblems[entry.name].map { diagnostic(for: $0) } }
    }

    /// Reads and checks a config file; relative paths in it are resolved against its folder.
    public static func load(contentsOf url: URL, file: String? = nil) throws -> DaemonConfig {
        let sink = DiagnosticSink(file: file ?? url.path)
        let bytes = try YAMLParser.readBytes(url, name: sink.file, sink: sink)
        try sink.throwIfAny()
        let config = decode(bytes: bytes, directory: url.deletingLastPathComponent().standardizedFileURL, sink: sink)
        try sink.throwIfAny()
        guard let config else { throw JobError.invalid(sink.sorted) }
        return config
    }

    /// Parses config text; relative paths are resolved against `directory`.
    public static func parse(_ text: String, file: String, directory: URL) throws -> DaemonConfig {
        let sink = DiagnosticSink(file: file)
        let config = decode(bytes: Array(text.utf8), directory: directory.standardizedFileURL, sink: sink)
        try sink.throwIfAny()
        guard let config else { throw JobError.invalid(sink.sorted) }
        return config
    }

    static func decode(bytes: [UInt8], directory: URL, sink: DiagnosticSink) -> DaemonConfig? {
        guard let root = YAMLParser.parse(bytes: bytes, sink: sink) else {
            if sink.isEmpty { sink.error(nil, "the config file is empty", hint: "it needs spool, output and models") }
            return nil
        }
        let reader = NodeReader(sink: sink)
        guard let e = reader.mapping(root, known: keys, what: "the config") else { return nil }
        var compute = ComputeSettings()
        if let c = e["compute"],
            let m = reader.mapping(c.value, known: ["backend", "precision", "threads"], what: "'compute'")
        {
            if let n = m["backend"],
                let v = reader.choice(n.value, key: "backend", ComputeBackend.allCases.map(\.rawValue))
            {
                compute.backend = ComputeBackend(rawValue: v) ?? .auto
            }
            if let n = m["precision"],
                let v = reader.choice(n.value, key: "precision", ComputePrecision.allCases.map(\.rawValue))
            {
                compute.precision = ComputePrecision(rawValue: v) ?? .fp32
            }
            if let n = m["threads"],
                let v = reader.int(n.value, key: "threads", in: 0...4096, hint: "0 uses every core")
            {
                compute.threads = v
            }
        }
        var limits = Limits()
        let limitKeys: [(String, WritableKeyPath<Limits, Int>, ClosedRange<Int>)] = [
            ("max_frames", \.maxFrames, 1...4096), ("max_steps", \.maxSteps, 1...JobLimits.trainingTimesteps),
            ("max_videos_per_job", \.maxVideosPerJob, 1...100_000), ("max_resolution", \.maxResolution, 8...16384),
            ("max_queued_jobs", \.maxQueuedJobs, 1...10_000_000),
        ]
        if let l = e["limits"], let m = reader.mapping(l.value, known: limitKeys.map(\.0), what: "'limits'") {
            for (key, path, range) in limitKeys {
                if let n = m[key], let v = reader.int(n.value, key: key, in: range) { limits[keyPath: path] = v }
            }
        }
        var logging = LoggingSettings()
        if let l = e["logging"], let m = reader.mapping(l.value, known: ["level"], what: "'logging'"),
            let n = m["level"], let v = reader.choice(n.value, key: "level", LoggingSettings.levels)
        {
            logging.level = v
        }
        let daemon = e["daemon"].map { DaemonSettings.read($0.value, reader: reader) } ?? DaemonSettings()
        let executor = e["executor"].map { ExecutorSettings.read($0.value, reader: reader) } ?? ExecutorSettings()
        let notify = e["notify"].map { NotifySettings.read($0.value, reader: reader) } ?? NotifySettings()
        let metrics =
            e["metrics"].map { MetricsSettings.read($0.value, directory: directory, reader: reader) } ?? MetricsSettings()
        var spool: URL?
        var output: URL?
        for key in ["spool", "output"] {
            guard let p = e[key] else {
                reader.missing(key, in: root, what: "the config", hint: "add `\(key): /absolute/path`")
                continue
            }
            let url = ModelEntry.readPath(p.value, key: key, directory: directory, reader: reader)
            if key == "spool" { spool = url } else { output = url }
        }
        var models: [ModelEntry] = []
        var marks: [String: YAMLMark] = [:]
        if let m = e["models"] {
            if case .mapping(let pairs) = m.value.content, !pairs.isEmpty {
                for pair in pairs {
                    guard isValidName(pair.key) else {
                        sink.error(
                            pair.keyMark, "model name '\(pair.key)' is not allowed",
                            hint: "use letters, digits, '.', '_' and '-', starting with a letter or digit")
                        continue
                    }
                    if let entry = ModelEntry.read(
                        name: pair.key, pair: pair, directory: directory, limits: limits, reader: reader)
                    {
                        models.append(entry)
                        marks.merge(pathMarks(of: pair)) { $1 }
                    }
                }
            } else if case .mapping = m.value.content {
                sink.error(m.value.mark, "'models' is empty", hint: "register at least one model")
            } else {
                reader.typeError(m.value, key: "models", expected: "a mapping of model names")
            }
        } else {
            reader.missing(
                "models", in: root, what: "the config", hint: "add a `models:` registry (see etc/skipdit/skipdit.yaml)")
        }
        guard sink.isEmpty, let spool, let output else { return nil }
        return DaemonConfig(
            file: sink.file, spool: spool, output: output, models: models, compute: compute, limits: limits,
            logging: logging, daemon: daemon, executor: executor, notify: notify, metrics: metrics,
            modelMarks: marks)
    }

    /// The marks of a model entry's name and path values (see `modelMarks`).
    private static func pathMarks(of pair: YAMLPair) -> [String: YAMLMark] {
        var marks = [pair.key: pair.keyMark]
        guard case .mapping(let fields) = pair.value.content else { return marks }
        for field in fields where ["checkpoint", "vae", "base"].contains(field.key) {
            marks["\(pair.key).\(field.key)"] = field.value.mark
        }
        if marks["\(pair.key).vae"] == nil { marks["\(pair.key).vae"] = marks["\(pair.key).base"] }
        return marks
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII,
            first.properties.isAlphabetic || ("0"..."9").contains(first)
        else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
        }
    }
}
