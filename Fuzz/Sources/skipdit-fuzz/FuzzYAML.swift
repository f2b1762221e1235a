// Job and config files: the libyaml layer (YAMLParser → YAMLNode), job decoding and resolution
// against a fixed config (JobSpec → RenderPlan), and config decoding (DaemonConfig). The byte-level
// entry points are the ones the spool and `skipdit validate` reach through readBytes.

import Foundation

@testable import Jobs

enum FuzzYAML {
    /// YAMLParser alone, then every node's resolution and description (what the decoders call), and
    /// the round trip result records rely on: what YAMLWriter writes of a value reads back as it.
    static func parser(_ bytes: UnsafeRawBufferPointer) {
        let sink = DiagnosticSink(file: "fuzz.yaml")
        let root = YAMLParser.parse(bytes: Array(bytes), sink: sink)
        for d in sink.sorted { _ = d.description }
        guard let root, sink.isEmpty else { return }
        visit(root, depth: 0)
        roundTrip(YAMLValue(root))
    }

    /// Aborts (a finding) when `value` does not survive YAMLWriter → YAMLParser unchanged.
    static func roundTrip(_ value: YAMLValue) {
        let text = YAMLWriter.emit(value)
        let sink = DiagnosticSink(file: "emitted.yaml")
        let back = YAMLParser.parse(bytes: Array(text.utf8), sink: sink)
        let again = back.map(YAMLValue.init) ?? .null
        guard sink.isEmpty, again == value else {
            fputs("YAMLWriter round trip failed\n--- emitted:\n\(text)--- diagnostics: \(sink.sorted)\n", stderr)
            fputs("--- value: \(value)\n--- read back: \(again)\n", stderr)
            abort()
        }
    }

    private static func visit(_ node: YAMLNode, depth: Int) {
        _ = node.resolved
        _ = node.kindDescription
        switch node.content {
        case .scalar: break
        case .sequence(let items): for item in items { visit(item, depth: depth + 1) }
        case .mapping(let pairs): for pair in pairs { visit(pair.value, depth: depth + 1) }
        }
    }

    /// A config with every kind of model, as the job checks see it (no model file is read).
    private static let config: DaemonConfig? = {
        let text = """
            spool: /nonexistent/spool
            output: /nonexistent/videos
            models:
              ucf101:
                task: class-to-video
                checkpoint: /nonexistent/ucf101-skip.pt
                vae: /nonexistent/vae
                classes: ucf101
              sky:
                task: class-to-video
                checkpoint: /nonexistent/sky-skip.pt
                vae: /nonexistent/vae
                defaults: { sampler: ddim, steps: 50 }
              named:
                preset: ucf101
                checkpoint: /nonexistent/named.pt
                vae: /nonexistent/vae
                classes: [left, right, up, down]
              demo:
                preset: demo
                checkpoint: /nonexistent/latte-demo.pt
                vae: /nonexistent/vae
                classes: [left, right, up, down, grow, shrink, bounce]
                heads: 4
                defaults: { fps: 4 }
              t2v:
                task: text-to-video
                base: /nonexistent/Latte-0
                checkpoint: /nonexistent/Latte-skip.pt
            limits: { max_videos_per_job: 64 }
            """
        do {
            return try DaemonConfig.parse(
                text, file: "fuzz-config.yaml", directory: URL(fileURLWithPath: "/nonexistent"))
        } catch {
            fputs("skipdit-fuzz: the built-in config does not parse: \(error)\n", stderr)
            exit(2)
        }
    }()

    /// A job file as JobFile.validate reads it: JobSpec, then RenderPlan against the config.
    static func job(_ bytes: UnsafeRawBufferPointer) {
        guard let config else { return }
        let sink = DiagnosticSink(file: "fuzz-job.yaml")
        let spec = JobSpec.decode(bytes: Array(bytes), sink: sink)
        if spec.marks["job"] != nil, let plan = RenderPlan.resolve(spec, config: config, jobName: "fuzz", sink: sink) {
            roundTrip(plan.recordValue)
            for video in plan.videos { _ = video.relativePath }
        }
        for d in sink.sorted { _ = d.description }
    }

    /// A daemon config file (relative paths resolved against a folder that does not exist).
    static func config(_ bytes: UnsafeRawBufferPointer) {
        let sink = DiagnosticSink(file: "fuzz-config.yaml")
        let directory = URL(fileURLWithPath: "/nonexistent/etc", isDirectory: true)
        if let config = DaemonConfig.decode(bytes: Array(bytes), directory: directory, sink: sink) {
            for entry in config.models { _ = config.model(named: entry.name) }
            _ = config.modelDiagnostics
        }
        for d in sink.sorted { _ = d.description }
    }
}
