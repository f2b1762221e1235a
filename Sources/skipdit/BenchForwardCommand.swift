// skipdit bench forward — one full-size Latte-XL/2-skip forward per engine (random weights).

import ArgumentParser
import Benchmarks
import Latte
import TensorCore

struct BenchForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "A full-size Latte-XL/2-skip forward (16x32x32 latents): batch 1, CFG batch 2, and a cached step.",
        discussion: "TFLOP per forward are counted from the configuration (adaLN projected once per sample).")

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Backends to measure: all, openblas, onednn.")
    var backend = BenchGEMMCommand.BackendChoice.all

    @Option(help: "Precisions to measure: all, fp32, bf16 (bf16 needs oneDNN).")
    var precision = BenchGEMMCommand.PrecisionChoice.all

    func run() throws {
        var results: [BenchmarkResult] = []
        let bench = ForwardBenchmark(benchmark: common.benchmark)
        for b in [Backend.openblas, .onednn] where backend.rawValue == "all" || backend.rawValue == b.rawValue {
            for p in [Precision.fp32, .bf16] where precision.rawValue == "all" || precision.rawValue == p.rawValue {
                if b == .openblas && p == .bf16 { continue }
                let engine = try makeGEMMEngine(ComputeOptions(backend: b, precision: p, threads: common.threads))
                results += try bench.run(engine: engine) { common.emit($0) }
            }
        }
        common.finish(results)
    }
}
