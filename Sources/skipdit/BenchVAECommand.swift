// skipdit bench vae — seconds and GFLOP/s per decoded frame of the full-size sd-vae-ft-ema decoder
// (random weights) at 256x256 and 512x512, per backend and precision; --frames N decodes a
// streamed clip instead and reports its peak RSS; --temporal measures the SVD temporal decoder.

import ArgumentParser
import Benchmarks
import Foundation
import TensorCore

struct BenchVAECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Seconds and GFLOP/s per frame of the 2-D VAE decoder (sd-vae-ft-ema size, random weights).",
        discussion: """
            GFLOP per frame: 622 at 256x256, 2,515 at 512x512 (2 per multiply-add; the decoder computes the \
            upsampler convolutions with 2.25x fewer FLOPs, which are not subtracted). With --frames N, each run \
            decodes an N-frame clip frame by frame and the notes give the peak RSS above the loaded decoder. \
            The machine is shared: compare best and median.
            """)

    @OptionGroup var engines: BenchEngineOptions

    @Option(name: .customLong("size"), help: "Output size in pixels (square), repeatable (default: 256 and 512).")
    var sizes: [Int] = []

    @Option(help: "Frames per run: 1 times single frames; more decodes a streamed clip and reports its peak RSS.")
    var frames = 1

    @Flag(help: "Measure the temporal (SVD) decoder instead (754 / 3,043 GFLOP per frame; chunks of 14).")
    var temporal = false

    @OptionGroup var common: BenchCommonOptions

    var configurations: [(Backend, Precision)] { engines.configurations }

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        for s in sizes where s <= 0 || s % 8 != 0 {
            throw ValidationError("--size \(s) must be a positive multiple of 8")
        }
        if configurations.isEmpty {
            throw ValidationError(
                "OpenBLAS has no bf16 GEMM. Hint: use --backend onednn (or all) with --precision bf16.")
        }
    }

    func run() async throws {
        var bench = VAEBenchmark()
        if !sizes.isEmpty { bench.sizes = sizes }
        bench.configurations = configurations
        bench.benchmark = common.benchmark
        bench.threads = common.threads
        bench.frames = frames
        bench.temporal = temporal
        let results = try bench.run(report: common.emit)
        common.finish(results)
    }
}
