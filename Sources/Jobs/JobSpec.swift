// JobSpec: a job file (format version 1) read and checked on its own: known keys, types and static
// ranges. Checks against the daemon config (model, class, limits, output paths) happen in RenderPlan.

import Foundation

/// A class given by name or by label index.
public enum ClassLabel: Sendable, Codable, Equatable {
    case name(String)
    case index(Int)
}

/// A parsed job file; nil fields take the model's defaults.
public struct JobSpec: Sendable, Codable, Equatable {
    /// Format version (only 1 exists).
    public var version: Int
    /// Task, if the job states it (must match the model's).
    public var task: RenderTask?
    /// Model name in the config's registry.
    public var model: String
    /// Class (class-conditional models only).
    public var classLabel: ClassLabel?
    /// Prompt (text-to-video only).
    public var prompt: String?
    /// Negative prompt (text-to-video only).
    public var negativePrompt: String?
    /// Seeds, one video each; nil: the model's default seed.
    public var seeds: [Int]?
    /// Sampling keys given in the job.
    public var sampling: SamplingOverrides
    /// Output name template relative to the output directory.
    public var output: String?
    /// Queue priority (higher first).
    public var priority: Int
    /// Job ids this job runs after (`after: [a, b]`): it waits until they are done.
    public var after: [String] = []
    /// The file name used in diagnostics.
    public var file: String
    /// Where each key's value starts (key → mark), for diagnostics found later.
    public var marks: [String: YAMLMark]

    /// The supported format versions.
    public static let versions = [1]
    /// Every key a version-1 job may have.
    public static let keys =
        ["version", "task", "model", "class", "prompt", "negative_prompt", "seed", "seeds"] + SamplingOverrides.keys
        + ["output", "priority", "after"]

    /// Parses and checks job text; throws `JobError.invalid` listing every problem.
    public static func parse(_ text: String, file: String) throws -> JobSpec {
        let sink = DiagnosticSink(file: file)
        let spec = decode(bytes: Array(text.utf8), sink: sink)
        try sink.throwIfAny()
        return spec
    }

    /// Reads, parses and checks a job file; `file` names it in diagnostics (default: the path).
    public static func load(contentsOf url: URL, file: String? = nil) throws -> JobSpec {
        let sink = DiagnosticSink(file: file ?? url.path)
        let bytes = try YAMLParser.readBytes(url, name: sink.file, sink: sink)
        let spec = decode(bytes: bytes, sink: sink)
        try sink.throwIfAny()
        return spec
    }

    /// Decodes as much as possible, recording problems in `sink` (the result is partial if any).
    static func decode(bytes: [UInt8], sink: DiagnosticSink) -> JobSpec {
        var spec = JobSpec(
            version: 1, task: nil, model: "", classLabel: nil, prompt: nil, negativePrompt: nil, seeds: nil,
            sampling: SamplingOverrides(), output: nil, priority: 0, file: sink.file, marks: [:])
        guard sink.isEmpty else { return spec }
        guard let root = YAMLParser.parse(bytes: bytes, sink: sink) else {
            if sink.isEmpty {
                sink.error(nil, "the job file is empty", hint: "a job needs at least `version: 1` and `model: NAME`")
            }
            return spec
        }
        spec.marks["job"] = root.mark
        let reader = NodeReader(sink: sink)
        guard let entries = reader.mapping(root, known: keys, what: "the job") else { return spec }
        for (key, pair) in entries { spec.marks[key] = pair.value.mark }

        if let node = entries["version"]?.value {
            if let v = reader.int(node, key: "version", in: Int.min...Int.max), !versions.contains(v) {
                sink.error(node.mark, "unsupported job format version \(v)", hint: "this skipdit reads `version: 1`")
            }
        } else {
            reader.missing("version", in: root, what: "the job", hint: "add `version: 1` as the first line")
        }
        if let node = entries["task"]?.value {
            spec.task = reader.choice(node, key: "task", RenderTask.allCases.map(\.rawValue)).flatMap(RenderTask.init)
        }
        if let node = entries["model"]?.value {
            spec.model = reader.string(node, key: "model", allowEmpty: false) ?? ""
        } else {
            reader.missing(
                "model", in: root, what: "the job", hint: "add `model: NAME` naming a model of the daemon config")
        }
        if let node = entries["class"]?.value { spec.classLabel = readClass(node, reader: reader) }
        if let node = entries["prompt"]?.value { spec.prompt = reader.string(node, key: "prompt", allowEmpty: false) }
        if let node = entries["negative_prompt"]?.value {
            spec.negativePrompt = reader.string(node, key: "negative_prompt")
        }
        spec.seeds = readSeeds(entries, reader: reader)
        spec.sampling = SamplingOverrides.read(entries, reader: reader)
        if let node = entries["output"]?.value, let template = reader.string(node, key: "output", allowEmpty: false) {
            if let problem = OutputTemplate.check(template) {
                sink.error(node.mark, problem.message, hint: problem.hint)
            } else {
                spec.output = template
            }
        }
        if let node = entries["priority"]?.value {
            spec.priority =
                reader.int(node, key: "priority", in: JobLimits.priorityRange, hint: "higher runs first; 0 is normal")
                ?? 0
        }
        if let node = entries["after"]?.value { spec.after = readAfter(node, reader: reader) }
        return spec
    }

    /// `after: [JOB, ...]` (or one id): job ids as `skipdit status` prints them, each once.
    private static func readAfter(_ node: YAMLNode, reader: NodeReader) -> [String] {
        let items: [YAMLNode]
        switch node.content {
        case .sequence(let list): items = list
        case .scalar: items = [node]
        default:
            reader.typeError(node, key: "after", expected: "a list of job ids")
            return []
        }
        var ids: [String] = []
        for item in items {
            guard let id = reader.string(item, key: "after", allowEmpty: false) else { continue }
            let plain = id.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "._-".unicodeScalars.contains(scalar))
            }
            if !plain || id.hasPrefix(".") {
                reader.sink.error(
                    item.mark, "'\(id)' is not a job id",
                    hint:
                        "a job id is a job file's name without .yaml (letters, digits, '.', '_', '-'), as `skipdit status` lists it"
                )
            } else if ids.contains(id) {
                reader.sink.error(item.mark, "'\(id)' is listed twice in 'after'", hint: "name each job once")
            } else {
                ids.append(id)
            }
        }
        return ids
    }

    /// A plain integer is an index; any other scalar (including a quoted number) is a name.
    private static func readClass(_ node: YAMLNode, reader: NodeReader) -> ClassLabel? {
        if case .int? = node.resolved {
            return reader.int(node, key: "class", in: 0...Int.max, hint: "class indices start at 0").map(
                ClassLabel.index)
        }
        return reader.string(node, key: "class", allowEmpty: false).map(ClassLabel.name)
    }

    /// `seed: N` or `seeds: [N, ...]` (not both; non-empty; unique).
    private static func readSeeds(_ entries: [String: YAMLPair], reader: NodeReader) -> [Int]? {
        let hint = "seeds are integers in 0...\(Int.max)"
        if let single = entries["seed"], let list = entries["seeds"] {
            let later = single.keyMark.line > list.keyMark.line ? single : list
            reader.sink.error(
                later.keyMark, "give either 'seed' or 'seeds', not both", hint: "use `seeds: [a, b]` for several videos"
            )
            return nil
        }
        if let node = entries["seed"]?.value {
            if case .sequence = node.content {
                reader.sink.error(
                    node.mark, "'seed' must be one integer, not a sequence", hint: "use `seeds:` for a list")
                return nil
            }
            return reader.int(node, key: "seed", in: JobLimits.seedRange, hint: hint).map { [$0] }
        }
        guard let node = entries["seeds"]?.value else { return nil }
        let items: [YAMLNode]
        switch node.content {
        case .sequence(let list): items = list
        case .scalar where node.resolved.map({ if case .int = $0 { return true } else { return false } }) == true:
            items = [node]
        default:
            reader.typeError(node, key: "seeds", expected: "a list of integers")
            return nil
        }
        guard !items.isEmpty else {
            reader.sink.error(
                node.mark, "'seeds' is empty", hint: "give at least one seed, or remove the key for the model's default"
            )
            return nil
        }
        var seeds: [Int] = []
        var seen: [Int: YAMLMark] = [:]
        var ok = true
        for item in items {
            guard let seed = reader.int(item, key: "seeds", in: JobLimits.seedRange, hint: hint) else {
                ok = false
                continue
            }
            if let first = seen[seed] {
                reader.sink.error(
                    item.mark, "seed \(seed) is listed twice",
                    hint: "it first appears at \(first); each seed gives one video")
                ok = false
            }
            seen[seed] = seen[seed] ?? item.mark
            seeds.append(seed)
        }
        return ok ? seeds : nil
    }
}
