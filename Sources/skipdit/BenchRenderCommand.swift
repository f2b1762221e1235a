// skipdit bench render — one whole clip at the released sizes (random weights), phase by phase.

import ArgumentParser
import Benchmarks
import Foundation
import Jobs

struct BenchRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Renders one full-size clip (random weights) through the daemon's pipeline, timed phase by phase.",
        discussion: """
            The phases (text encode, full and cached steps, the sampler's arithmetic, checkpoint writes, VAE \
            decode, conversion to bytes, MP4 encode) with GFLOP/s where FLOPs are counted, each against the best \
            GEMM GFLOP/s of the same backend and precision measured first in the same run (gemm_peak); `total` \
            is the whole render with its peak RSS. Defaults are the released sample configs: c2v is UCF101 \
            (DDIM 50, CFG 7, Skip-Cache N2), t2v is Latte T2V (DDIM 50, CFG 7.5, N2-700-50) with T5-XXL; \
            --steps 2 gives a quick look.
            """)

    @Option(help: "c2v (Latte-XL/2-skip, 16x256x256) or t2v (Latte T2V-skip + T5-XXL + temporal VAE, 16x512x512).")
    var task = RenderBenchmark.Task.c2v

    @Option(help: "Sampler steps (default: the sample config's).")
    var steps: Int?

    @Option(help: "ddpm or ddim (default: the sample config's).")
    var sampler: String?

    @Option(help: "Skip-Cache as a job writes it: off, N2-700-50, \"{ policy: adaptive, threshold: 6 }\" …")
    var cache: String?

    @Option(help: "auto, openblas or onednn.")
    var backend = ComputeBackend.auto

    @Option(help: "fp32 or bf16 (bf16 needs oneDNN).")
    var precision = ComputePrecision.fp32

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Save the render state every N steps, as the daemon does.")
    var checkpointEvery = 5

    @Flag(help: "Print one JSON object per phase and line instead of a table.")
    var json = false

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
    }

    func run() throws {
        var compute = ComputeSettings()
        compute.backend = backend
        compute.precision = precision
        compute.threads = threads ?? 0
        var bench = RenderBenchmark(task: task, compute: compute)
        bench.steps = steps
        bench.sampler = sampler
        bench.cache = cache
        bench.checkpointEvery = checkpointEvery
        let results = try bench.run { r in
            if json { print(BenchmarkReport.jsonLine(r)) }
        }
        if !json { print(BenchmarkReport.table(results)) }
    }
}

extension RenderBenchmark.Task: ExpressibleByArgument {}
extension ComputeBackend: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
