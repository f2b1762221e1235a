// JobFile: the one-call validation `skipdit validate`, the spool and the daemon use: parse a job file
// and resolve it against the config, reporting syntax, key, type, range and config problems together.

import Foundation

/// Validates job files.
public enum JobFile {
    /// Parses `url` and resolves it against `config`; throws `JobError` with every problem found.
    /// `file` names the job in diagnostics (default: the path); `jobName` fills {job}.
    public static func validate(_ url: URL, config: DaemonConfig, file: String? = nil, jobName: String? = nil) throws
        -> RenderPlan
    {
        let sink = DiagnosticSink(file: file ?? url.path)
        let bytes = try YAMLParser.readBytes(url, name: sink.file, sink: sink)
        return try validate(
            bytes: bytes, config: config, jobName: jobName ?? RenderPlan.jobName(forFile: url.path), sink: sink)
    }

    /// Validates job text (`file` names it in diagnostics and gives the default job name).
    public static func validate(_ text: String, file: String, config: DaemonConfig, jobName: String? = nil) throws
        -> RenderPlan
    {
        let sink = DiagnosticSink(file: file)
        return try validate(bytes: Array(text.utf8), config: config, jobName: jobName, sink: sink)
    }

    private static func validate(bytes: [UInt8], config: DaemonConfig, jobName: String?, sink: DiagnosticSink) throws
        -> RenderPlan
    {
        let spec = JobSpec.decode(bytes: bytes, sink: sink)
        // Config checks still run on a partial spec so one pass reports everything, unless the
        // file did not parse at all.
        let parsed = spec.marks["job"] != nil
        let plan = parsed ? RenderPlan.resolve(spec, config: config, jobName: jobName, sink: sink) : nil
        if let name = jobName ?? (parsed ? RenderPlan.jobName(forFile: sink.file) : nil), spec.after.contains(name) {
            sink.error(
                spec.marks["after"], "dependency cycle: \(name) -> \(name) (the job waits for itself)",
                hint: "remove '\(name)' from 'after'")
        }
        try sink.throwIfAny()
        guard let plan else { throw JobError.invalid(sink.sorted) }
        return plan
    }
}

extension RenderPlan {
    /// The plan as a YAML value for result records (parameters only; key order fixed).
    public var recordValue: YAMLValue {
        var fields: [(String, YAMLValue)] = [
            ("job", .string(jobName)), ("model", .string(model.name)), ("task", .string(task.rawValue)),
        ]
        if let classIndex { fields.append(("class_index", .int(classIndex))) }
        if let className { fields.append(("class", .string(className))) }
        if let prompt { fields.append(("prompt", .string(prompt))) }
        if let negativePrompt { fields.append(("negative_prompt", .string(negativePrompt))) }
        fields += [
            ("sampler", .string(sampler.rawValue)), ("steps", .int(steps)), ("guidance", .double(guidance)),
            (
                "cache",
                cache.map { c in
                    guard let a = c.adaptive else {
                        return .mapping([("interval", .int(c.interval)), ("start", .int(c.start)), ("stop", .int(c.stop))])
                    }
                    var fields: [(String, YAMLValue)] = [("policy", .string("adaptive"))]
                    if let t = a.threshold { fields.append(("threshold", .double(t))) }
                    if let p = a.targetPSNR { fields.append(("target_psnr", .double(p))) }
                    fields += [("max_cached", .int(a.maxCached)), ("start", .int(c.start)), ("stop", .int(c.stop))]
                    return .mapping(fields)
                } ?? .string("off")
            ),
            ("fps", .int(fps)), ("priority", .int(priority)),
            (
                "videos",
                .sequence(
                    videos.map {
                        .mapping([
                            ("index", .int($0.index)), ("seed", .int($0.seed)), ("output", .string($0.relativePath)),
                        ])
                    })
            ),
        ]
        return .mapping(fields)
    }
}
