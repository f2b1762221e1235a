// skipdit bench forward — one full-size Latte-XL/2-skip forward per engine (random weights).

import ArgumentParser
import Benchmarks
import Latte
import TensorCore

struct BenchForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract:
            "A full-size forward: class-to-video Latte-XL/2-skip (16x32x32; batch 1, CFG batch 2, a cached step) or text-to-video (16x64x64, CFG batch 2, a cached step, and a T5-XXL encode).",
        discussion: "TFLOP per forward are counted from the configuration (adaLN projected once per sample).")

    enum Task: String, CaseIterable, ExpressibleByArgument { case c2v, t2v }

    @Option(help: "Which model: c2v (Latte-XL/2-skip) or t2v (Latte T2V + T5-XXL).")
    var task = Task.c2v

    @Option(
        name: .customLong("chunk-tokens"),
        help: "c2v: tokens per block chunk, repeatable to compare sizes interleaved (default: the renderer's 1024).")
    var chunkTokens: [Int] = []

    @OptionGroup var common: BenchCommonOptions

    @OptionGroup var engines: BenchEngineOptions

    func validate() throws {
        for c in chunkTokens where c < 1 { throw ValidationError("--chunk-tokens \(c) must be at least 1") }
        if !chunkTokens.isEmpty, task != .c2v { throw ValidationError("--chunk-tokens is for --task c2v") }
    }

    func run() throws {
        var results: [BenchmarkResult] = []
        var c2v = ForwardBenchmark(benchmark: common.benchmark)
        if !chunkTokens.isEmpty { c2v.chunkTokens = chunkTokens }
        let t2v = TextToVideoForwardBenchmark(benchmark: common.benchmark)
        for (b, p) in engines.configurations {
            let engine = try makeGEMMEngine(ComputeOptions(backend: b, precision: p, threads: common.threads))
            switch task {
            case .c2v: results += try c2v.run(engine: engine) { common.emit($0) }
            case .t2v: results += try t2v.run(engine: engine) { common.emit($0) }
            }
        }
        common.finish(results)
    }
}
