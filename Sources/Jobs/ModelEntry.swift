// ModelEntry: one model of the daemon config's registry (`models: NAME: {...}`): task, dataset preset,
// file locations (resolved against the config file's folder), class list and sampling defaults.

import Foundation

/// A model the daemon can render with.
public struct ModelEntry: Sendable, Codable, Equatable {
    /// Registry name (what jobs put in `model:`).
    public var name: String
    /// What the model renders.
    public var task: RenderTask
    /// The dataset whose official sample config gave the defaults.
    public var preset: ModelPreset
    /// The Skip-DiT checkpoint (class-to-video: e.g. ucf101-skip.pt; text-to-video: Latte-skip.pt).
    public var checkpoint: URL
    /// Text-to-video base pipeline folder (Latte-0: transformer/, text_encoder/, tokenizer/, vae*/).
    public var base: URL?
    /// The VAE folder (class-to-video: the 2-D sd-vae-ft-ema; text-to-video: the temporal decoder), or
    /// a single 2-D VAE weights file (LDM .safetensors/.ckpt; its config inferred without config.json).
    public var vae: URL
    /// Class names by label index; nil: indices only.
    public var classes: [String]?
    /// Number of classes (0: unconditional; the null label id is `numClasses`).
    public var numClasses: Int
    /// Sampling defaults (preset, then the entry's `defaults:`).
    public var defaults: SamplingDefaults
    /// Attention heads of a class-to-video transformer (checkpoints do not store it); nil: the
    /// official Latte value for the checkpoint's hidden size.
    public var heads: Int?
    /// Frames per text-to-video clip (the sample config's `video_length`: 16 for the released model);
    /// class-to-video models render their checkpoint's frame count.
    public var frames: Int = ModelEntry.defaultTextToVideoFrames
    /// The adaptive Skip-Cache calibration (`cache_calibration:`), which turns a target PSNR into a threshold.
    public var cacheCalibration: CacheCalibration? = nil

    /// The official text-to-video sample config's `video_length`.
    public static let defaultTextToVideoFrames = 16

    /// True for class-conditional models (a job must give `class`).
    public var isConditional: Bool { task == .classToVideo && numClasses > 0 }

    static let keys = [
        "task", "preset", "checkpoint", "base", "vae", "classes", "num_classes", "defaults", "heads", "frames",
        "cache_calibration",
    ]
    static let defaultsKeys = SamplingOverrides.keys + ["seed", "negative_prompt"]

    /// Reads one entry; nil when it has errors (recorded in `reader`).
    static func read(name: String, pair: YAMLPair, directory: URL, limits: Limits, reader: NodeReader) -> ModelEntry? {
        let sink = reader.sink
        let node = pair.value
        let before = sink.items.count
        let what = "model '\(name)'"
        guard let e = reader.mapping(node, known: keys, what: what) else { return nil }
        let task = e["task"].flatMap { reader.choice($0.value, key: "task", RenderTask.allCases.map(\.rawValue)) }
            .flatMap(RenderTask.init)
        var preset = e["preset"].flatMap {
            reader.choice($0.value, key: "preset", ModelPreset.allCases.map(\.rawValue))
        }
        .flatMap(ModelPreset.init)
        if e["preset"] == nil {
            preset = ModelPreset(rawValue: name) ?? (task == .textToVideo ? .t2v : nil)
            if preset == nil {
                sink.error(
                    pair.keyMark, "\(what) does not say which dataset defaults it uses",
                    hint: "add `preset:` (\(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        guard let preset else { return nil }
        if let task, task != preset.task, let t = e["task"] {
            sink.error(
                t.value.mark,
                "\(what) has task \(task.rawValue) but preset '\(preset.rawValue)' is \(preset.task.rawValue)",
                hint: "fix `task:` or `preset:`")
        }
        let finalTask = preset.task

        func path(_ key: String) -> URL? {
            guard let p = e[key] else { return nil }
            return readPath(p.value, key: key, directory: directory, reader: reader)
        }
        let checkpoint = path("checkpoint")
        if e["checkpoint"] == nil {
            reader.missing(
                "checkpoint", at: pair.keyMark, what: what, hint: "add `checkpoint: PATH` (the Skip-DiT .pt file)")
        }
        var base = path("base")
        var vae = path("vae")
        switch finalTask {
        case .classToVideo:
            if let b = e["base"] {
                sink.error(
                    b.keyMark, "'base' is for text-to-video models",
                    hint: "remove it; class-to-video models use `checkpoint` and `vae`")
                base = nil
            }
            if e["vae"] == nil {
                reader.missing("vae", at: pair.keyMark, what: what, hint: "add `vae: PATH` (the sd-vae-ft-ema folder)")
            }
        case .textToVideo:
            if e["base"] == nil {
                reader.missing(
                    "base", at: pair.keyMark, what: what, hint: "add `base: PATH` (the Latte-0 pipeline folder)")
            }
            if vae == nil, let base { vae = base.appendingPathComponent("vae_temporal_decoder") }
            for key in ["classes", "num_classes"] where e[key] != nil {
                sink.error(e[key]?.keyMark, "'\(key)' is for class-to-video models", hint: "remove it")
            }
        }

        var classes: [String]? = nil
        if finalTask == .classToVideo, let c = e["classes"] {
            classes = readClasses(c.value, directory: directory, reader: reader)
        }
        var numClasses = preset.numClasses ?? 0
        if let c = classes { numClasses = c.count }
        if finalTask == .classToVideo, let n = e["num_classes"] {
            if let value = reader.int(n.value, key: "num_classes", in: 0...100_000, hint: "0 means unconditional") {
                if let c = classes, c.count != value {
                    sink.error(
                        n.value.mark, "num_classes is \(value) but 'classes' has \(c.count) names",
                        hint: "make them agree or drop num_classes")
                }
                numClasses = value
            }
        }

        var heads: Int? = nil
        if let h = e["heads"] {
            if finalTask == .textToVideo {
                sink.error(
                    h.keyMark, "'heads' is for class-to-video models",
                    hint: "text-to-video reads it from transformer/config.json")
            } else {
                heads = reader.int(h.value, key: "heads", in: 1...1024, hint: "the transformer's attention head count")
            }
        }

        var frames = defaultTextToVideoFrames
        if let f = e["frames"] {
            if finalTask == .classToVideo {
                sink.error(
                    f.keyMark, "'frames' is for text-to-video models",
                    hint: "class-to-video renders the frame count of its checkpoint (temp_embed)")
            } else if let value = reader.int(
                f.value, key: "frames", in: 1...limits.maxFrames,
                hint: "frames per clip (the sample config's video_length; limits.max_frames bounds it)")
            {
                frames = value
            }
        }

        var calibration: CacheCalibration? = nil
        if let c = e["cache_calibration"], let url = readPath(c.value, key: "cache_calibration", directory: directory, reader: reader) {
            do { calibration = try CacheCalibration(contentsOf: url) } catch {
                let problem =
                    (error as? CalibrationError).map { "use the cache calibration \($0)" }
                    ?? "read the cache calibration \(url.path): \(error.localizedDescription)"
                sink.error(
                    c.value.mark, "cannot \(problem)",
                    hint: "it is the output of `skipdit bench cache --model \(name) --json` (JSON lines)")
            }
        }

        let conditional = finalTask == .classToVideo && numClasses > 0
        var defaults = preset.defaults
        if finalTask == .classToVideo && !conditional { defaults.guidance = 1.0 }
        if let d = e["defaults"] {
            applyDefaults(
                d.value, to: &defaults, task: finalTask, conditional: conditional, preset: preset, reader: reader)
        }
        if defaults.steps > limits.maxSteps {
            sink.error(
                e["defaults"]?.value.mark ?? pair.keyMark,
                "\(what) defaults to \(defaults.steps) steps, above limits.max_steps \(limits.maxSteps)",
                hint: "raise limits.max_steps or set `defaults: { steps: N }`")
        }
        guard sink.items.count == before, let checkpoint, let vae else { return nil }
        return ModelEntry(
            name: name, task: finalTask, preset: preset, checkpoint: checkpoint, base: base, vae: vae, classes: classes,
            numClasses: numClasses, defaults: defaults, heads: heads, frames: frames, cacheCalibration: calibration)
    }

    /// Merges a `defaults:` block over the preset's defaults.
    private static func applyDefaults(
        _ node: YAMLNode, to defaults: inout SamplingDefaults, task: RenderTask, conditional: Bool, preset: ModelPreset,
        reader: NodeReader
    ) {
        guard let e = reader.mapping(node, known: defaultsKeys, what: "'defaults'") else { return }
        let o = SamplingOverrides.read(e, reader: reader)
        if let s = o.sampler {
            if task == .textToVideo && s == .ddpm {
                reader.sink.error(
                    e["sampler"]?.value.mark, "text-to-video models sample with ddim only", hint: "use `sampler: ddim`")
            } else {
                defaults.sampler = s
            }
        }
        if let v = o.steps { defaults.steps = v }
        if let g = o.guidance {
            if !conditional && g != 1.0 {
                reader.sink.error(
                    e["guidance"]?.value.mark, "an unconditional model has no guidance",
                    hint: "remove 'guidance' or set it to 1.0")
            } else {
                defaults.guidance = g
            }
        }
        if let c = o.cache, let mark = e["cache"]?.value.mark {
            defaults.cache = RenderPlan.resolveCache(c, base: preset.defaults.cache, mark: mark, sink: reader.sink)
        }
        if let f = o.fps { defaults.fps = f }
        if let s = e["seed"] {
            if let seed = reader.int(s.value, key: "seed", in: JobLimits.seedRange) { defaults.seed = seed }
        }
        if let n = e["negative_prompt"] {
            if task != .textToVideo {
                reader.sink.error(n.keyMark, "'negative_prompt' is for text-to-video models", hint: "remove it")
            } else if let text = reader.string(n.value, key: "negative_prompt") {
                defaults.negativePrompt = text
            }
        }
    }

    /// `ucf101` (built-in), an inline list of names, or a path to a file of names (one per line).
    private static func readClasses(_ node: YAMLNode, directory: URL, reader: NodeReader) -> [String]? {
        if case .sequence(let items) = node.content {
            let names = items.compactMap { reader.string($0, key: "classes", allowEmpty: false) }
            guard names.count == items.count else { return nil }
            return checkUnique(names, marks: items.map(\.mark), file: reader.sink.file, reader: reader)
        }
        guard let text = reader.string(node, key: "classes", allowEmpty: false) else { return nil }
        if text == "ucf101" { return UCF101.classes }
        guard let url = readPath(node, key: "classes", directory: directory, reader: reader) else { return nil }
        let fileSink = DiagnosticSink(file: url.path)
        let bytes: [UInt8]
        do {
            bytes = try YAMLParser.readBytes(url, name: url.path, sink: fileSink)
        } catch {
            reader.sink.error(
                node.mark, "cannot read the class list \(url.path)",
                hint: "use `ucf101`, a file of names (one per line), or omit `classes` for indices only")
            return nil
        }
        var names: [String] = []
        var marks: [YAMLMark] = []
        for (i, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let name = line.trimmingCharacters(in: .whitespaces)
            if name.isEmpty || name.hasPrefix("#") { continue }
            names.append(name)
            marks.append(YAMLMark(line: i + 1, column: 1))
        }
        reader.sink.append(fileSink.items)
        if names.isEmpty {
            reader.sink.error(
                node.mark, "the class list \(url.path) has no names", hint: "one class name per line, in label order")
            return nil
        }
        return checkUnique(names, marks: marks, file: url.path, reader: reader)
    }

    private static func checkUnique(_ names: [String], marks: [YAMLMark], file: String, reader: NodeReader) -> [String]?
    {
        var seen: [String: YAMLMark] = [:]
        var ok = true
        for (name, mark) in zip(names, marks) {
            if let first = seen[name] {
                reader.sink.append([
                    Diagnostic(
                        file: file, at: mark, "class '\(name)' is listed twice",
                        hint: "first at \(first); names must be unique")
                ])
                ok = false
            }
            seen[name] = seen[name] ?? mark
        }
        return ok ? names : nil
    }

    /// A path, relative ones resolved against `directory`.
    static func readPath(_ node: YAMLNode, key: String, directory: URL, reader: NodeReader) -> URL? {
        guard let text = reader.string(node, key: key, allowEmpty: false) else { return nil }
        if text.hasPrefix("~") {
            reader.sink.error(
                node.mark, "'~' is not expanded in '\(key)'",
                hint: "use an absolute path or one relative to the config file")
            return nil
        }
        if text.hasPrefix("/") { return URL(fileURLWithPath: text).standardizedFileURL }
        return directory.appendingPathComponent(text).standardizedFileURL
    }
}
