// ResultRecord: the caller fields of a job's result.yaml (the spool adds job, source, status, reason,
// finished, host and pid first). A rendered job records its parameters (seeds included), every video
// with its poster, sha256 and full/cached step counts, per-phase timings, the attempt, where it resumed,
// and the software; a failed one records the parameters when the job was valid, the diagnostics
// (file:line:column) when it was not, and the error.

import Foundation
import Jobs
import Render

enum ResultRecord {
    /// Per-phase timing keys, in the order they are written.
    static let phases = ["load", "denoise", "decode", "encode"]

    /// Where a render started from.
    struct Start {
        /// The lease generation (1: first claim; more after a restart or takeover).
        var attempt: Int
        /// The video index (0-based) and the sampler steps already done when a checkpoint was resumed;
        /// nil for a fresh start.
        var resumed: (video: Int, step: Int)?
    }

    /// A rendered job.
    static func done(
        plan: RenderPlan, result: JobResult, output: URL, start: Start, wallSeconds: Double, software: YAMLValue,
        slurm: YAMLValue? = nil
    ) -> YAMLValue {
        let videos: [YAMLValue] = result.videos.map { v in
            var fields: [(String, YAMLValue)] = [
                ("seed", .int(v.seed)), ("video", .string(v.path)), ("poster", .string(v.poster)),
                ("file", .string(output.appendingPathComponent(v.path).path)), ("sha256", .string(v.sha256)),
                ("full_steps", .int(v.fullSteps)), ("cached_steps", .int(v.cachedSteps)),
            ]
            // Adaptive Skip-Cache: which sampler steps (1-based, as progress counts them) ran full.
            if let full = v.fullIterations { fields.append(("full_step_numbers", .sequence(full.map { .int($0 + 1) }))) }
            return .mapping(fields + [("timings", timings(v.timings))])
        }
        var totals = result.timings
        totals["total"] = wallSeconds
        return .mapping(
            [
                ("parameters", plan.recordValue),
                ("seeds", .sequence(result.videos.map { .int($0.seed) })),
                ("output_directory", .string(output.path)),
                ("videos", .sequence(videos)),
                (
                    "steps",
                    .mapping([
                        ("full", .int(result.videos.reduce(0) { $0 + $1.fullSteps })),
                        ("cached", .int(result.videos.reduce(0) { $0 + $1.cachedSteps })),
                    ])
                ),
                ("timings", timings(totals, extra: ["total"])),
                ("computed_by", .mapping(result.computedBy.map { ($0.0, .string($0.1)) })),
            ] + attempt(start) + (slurm.map { [("slurm", $0)] } ?? []) + [("software", software)])
    }

    /// A job whose file did not validate.
    static func invalid(_ error: Error, software: YAMLValue) -> YAMLValue {
        var fields: [(String, YAMLValue)] = []
        if let jobError = error as? JobError {
            let diagnostics: [YAMLValue] = jobError.diagnostics.map { d in
                .mapping([
                    ("file", .string(d.file)), ("line", .int(d.line)), ("column", .int(d.column)),
                    ("message", .string(d.message)), ("hint", .string(d.hint)),
                ])
            }
            fields.append(("diagnostics", .sequence(diagnostics)))
        } else {
            fields.append(("error", .string("\(error)")))
        }
        fields.append(("software", software))
        return .mapping(fields)
    }

    /// A valid job whose render failed or was cancelled.
    static func failed(
        plan: RenderPlan, error: Error?, start: Start, software: YAMLValue, slurm: YAMLValue? = nil
    ) -> YAMLValue {
        var fields: [(String, YAMLValue)] = [("parameters", plan.recordValue)]
        if let error { fields.append(("error", .string("\(error)"))) }
        return .mapping(fields + attempt(start) + (slurm.map { [("slurm", $0)] } ?? []) + [("software", software)])
    }

    /// The `software:` block: name, version and compute settings.
    static func software(version: String, compute: ComputeSettings) -> YAMLValue {
        .mapping([
            ("name", .string("skipdit")), ("version", .string(version)),
            (
                "compute",
                .mapping([
                    ("backend", .string(compute.backend.rawValue)), ("precision", .string(compute.precision.rawValue)),
                    ("threads", .int(compute.threads)),
                ])
            ),
        ])
    }

    private static func attempt(_ start: Start) -> [(String, YAMLValue)] {
        var fields: [(String, YAMLValue)] = [("attempt", .int(start.attempt))]
        if let resumed = start.resumed {
            fields.append(
                ("resumed_from", .mapping([("video_index", .int(resumed.video)), ("step", .int(resumed.step))])))
        }
        return fields
    }

    /// Seconds per phase in a fixed order (known phases first), rounded to milliseconds.
    private static func timings(_ seconds: [String: Double], extra: [String] = []) -> YAMLValue {
        let order = phases + extra
        let keys = order.filter { seconds[$0] != nil } + seconds.keys.filter { !order.contains($0) }.sorted()
        return .mapping(keys.map { ($0, .double(((seconds[$0] ?? 0) * 1000).rounded() / 1000)) })
    }
}
