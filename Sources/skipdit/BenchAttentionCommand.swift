// skipdit bench attention — GFLOP/s of the attention cores at the released shapes, fused kernel
// against two engine GEMMs per tile, with each row's fraction of the same run's GEMM peak.

import ArgumentParser
import Benchmarks
import Foundation
import TensorCore

struct BenchAttentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "GFLOP/s of attention at the released shapes: fused kernel and GEMM path, against the GEMM peak.",
        discussion: """
            Shapes (rows x queries x keys, heads x head dim): c2v_spatial 32x256x256, t2v_spatial \
            32x1024x1024, t2v_cross 32x1024x120 (20 caption tokens unmasked), t5_self 1x120x120 (64x64). \
            FLOPs are 4·rows·heads·queries·keys·hd, masked keys included. Attention computes in fp32 in both \
            precisions; --precision picks the engine whose weight-GEMM peak (gemm_peak, measured first) is \
            the of_peak yardstick and which the gemm kernel calls.
            """)

    @Option(help: "GEMM backend: auto, onednn, openblas.")
    var backend = Backend.auto

    @Option(help: "Precision of the yardstick engine: fp32 or bf16.")
    var precision = Precision.fp32

    @Option(name: .customLong("shape"), help: "Measure only these shapes (repeatable): \(Self.shapeNames).")
    var shapes: [String] = []

    @Option(name: .customLong("kernel"), help: "Measure only these kernels (repeatable): fused, gemm.")
    var kernels: [AttentionKernel] = []

    @OptionGroup var common: BenchCommonOptions

    static var shapeNames: String { AttentionShape.released.map(\.name).joined(separator: ", ") }

    func validate() throws {
        for s in shapes where !AttentionShape.released.contains(where: { $0.name == s }) {
            throw ValidationError("unknown --shape '\(s)'. Hint: one of \(Self.shapeNames).")
        }
    }

    func run() async throws {
        var bench = AttentionBenchmark()
        if !shapes.isEmpty { bench.shapes = AttentionShape.released.filter { shapes.contains($0.name) } }
        if !kernels.isEmpty { bench.kernels = kernels }
        bench.backend = backend
        bench.precision = precision
        bench.benchmark = common.benchmark
        bench.threads = common.threads
        common.finish(try bench.run(report: common.emit))
    }
}

extension AttentionKernel: ExpressibleByArgument {}
