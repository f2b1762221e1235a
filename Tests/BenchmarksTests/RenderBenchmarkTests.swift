// `bench render` at tiny sizes (the released architectures, 28 layers, small widths): the rows of
// both tasks, that the phases account for the render's wall time, the step and checkpoint counts
// the phases report, the ratios to the same run's GEMM yardstick, and the JSON shape.

import Benchmarks
import Foundation
import Jobs
import Latte
import TensorCore
import TestSupport
import TextEncoder
import VAE
import XCTest

final class RenderBenchmarkTests: XCTestCase {
    static func tinySizes() throws -> RenderBenchmark.Sizes {
        var sizes = RenderBenchmark.Sizes()
        sizes.classToVideo = TinyModels.classToVideo(depth: 28, classes: 101)
        sizes.vae = AutoencoderKLConfig(blockOutChannels: [32, 32], layersPerBlock: 1)
        sizes.textToVideo = try TinyModels.textToVideo(layers: 28)
        sizes.textToVideoFrames = 4
        sizes.t5 = T5Config(dModel: 32, dKV: 8, numHeads: 4, dFF: 64, numLayers: 2, vocabSize: 200)
        sizes.temporalVAE = TemporalDecoderConfig(blockOutChannels: [32, 32], layersPerBlock: 1)
        sizes.captionTokens = 9
        sizes.gemmShapes = [GEMMShape(m: 64, n: 64, k: 64)]
        return sizes
    }

    func bench(_ task: RenderBenchmark.Task, steps: Int, cache: String?) throws -> RenderBenchmark {
        var compute = ComputeSettings()
        compute.backend = .openblas
        compute.threads = 1
        var bench = RenderBenchmark(task: task, compute: compute)
        bench.sizes = try Self.tinySizes()
        bench.steps = steps
        bench.cache = cache
        bench.checkpointEvery = 2
        return bench
    }

    func testBothTasksPhaseByPhase() throws {
        for (task, cache) in [(RenderBenchmark.Task.c2v, "{ interval: 2, start: 1000, stop: 0 }"), (.t2v, "N2-1000-0")]
        {
            var reported: [BenchmarkResult] = []
            let rows = try bench(task, steps: 6, cache: cache).run { reported.append($0) }
            XCTAssertEqual(reported, rows)
            let byName = Dictionary(rows.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(rows.first?.name, "gemm_peak")
            XCTAssertEqual(rows.last?.name, "total")
            let phases = ["load", "full_steps", "cached_steps", "sampler", "checkpoint", "decode", "convert", "encode"]
            for name in phases + (task == .t2v ? ["text_encode"] : []) {
                XCTAssertNotNil(byName[name], "\(task): phase \(name) in \(rows.map(\.name))")
            }
            XCTAssertEqual(byName["text_encode"] == nil, task == .c2v)
            // 6 steps, every 2nd full from the first: 3 full and 3 cached forwards; a state written
            // after steps 2 and 4 (not after the last); 4 frames decoded.
            XCTAssertEqual(byName["full_steps"]?.shape, "3 forwards")
            XCTAssertEqual(byName["cached_steps"]?.shape, "3 forwards")
            XCTAssertEqual(byName["sampler"]?.shape, "6 steps")
            XCTAssertEqual(byName["checkpoint"]?.shape, "2 writes")
            XCTAssertEqual(byName["decode"]?.shape, "4 frames")

            // The phases are the render's time: they add up to the total, and none is counted twice.
            // The bookkeeping between them (about 0.2 ms a video) is 0.3-1% of these 50 ms renders
            // and 2% would let a preemption in it fail the test on a busy machine; a missing phase
            // is 5% or more of the total (checkpoint, the smallest timed one, is 5-10% here).
            guard let total = byName["total"], let peak = byName["gemm_peak"] else { return }
            let accounted = rows.dropFirst().dropLast().reduce(0) { $0 + $1.seconds }
            XCTAssertGreaterThan(accounted, 0.96 * total.seconds, "\(task)")
            XCTAssertLessThanOrEqual(accounted, total.seconds * 1.0001)
            XCTAssertTrue(rows.dropFirst().allSatisfy { $0.runs == 1 })
            XCTAssertTrue(rows.allSatisfy { $0.precision == "fp32" && $0.backend == "openblas" })

            // GFLOP/s where FLOPs are counted, as a fraction of the same run's GEMM yardstick.
            let peakGflops = try XCTUnwrap(peak.gflops)
            for name in ["full_steps", "cached_steps", "decode", "total"] + (task == .t2v ? ["text_encode"] : []) {
                let row = try XCTUnwrap(byName[name])
                let gflops = try XCTUnwrap(row.gflops, name)
                XCTAssertEqual(try XCTUnwrap(row.ofPeak, name), gflops / peakGflops, accuracy: 1e-9)
            }
            for name in ["load", "sampler", "checkpoint", "convert", "encode"] {
                XCTAssertNil(byName[name]?.gflops, name)
            }
            XCTAssertGreaterThan(try XCTUnwrap(total.peakRSSBytes), 0)

            // JSON lines in the shape of the other benches, and a table with the ratio column.
            let line = BenchmarkReport.jsonLine(total)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["name", "seconds", "gflops", "of_peak", "peak_rss_bytes", "cpu", "threads"] {
                XCTAssertNotNil(object[key], "\(key) in \(line)")
            }
            XCTAssertEqual(try BenchmarkReport.parse(jsonLine: line), total)
            XCTAssertTrue(BenchmarkReport.table(rows).contains("of peak"))
        }
    }

    func testBadJobFieldsAreTheJobParsersErrors() throws {
        var b = try bench(.c2v, steps: 2, cache: nil)
        b.sampler = "euler"
        XCTAssertThrowsError(try b.run()) { error in
            XCTAssertTrue("\(error)".contains("sampler"), "\(error)")
        }
    }
}
