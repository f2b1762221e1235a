// `bench attention` at small shapes: a yardstick row, one row per shape and kernel with its
// FLOPs, ratio to the yardstick and kernel name, and the released shapes' sizes.

import Benchmarks
import Foundation
import TensorCore
import XCTest

final class AttentionBenchmarkTests: XCTestCase {
    func testRowsPerShapeAndKernelWithTheirRatio() throws {
        var bench = AttentionBenchmark()
        bench.backend = .openblas
        bench.gemmShapes = [GEMMShape(m: 64, n: 64, k: 64)]
        bench.benchmark = Benchmark(warmup: 0, runs: 2)
        bench.shapes = [
            AttentionShape(name: "self", rows: 2, queries: 100, keys: 100, heads: 2, headDim: 24),
            AttentionShape(name: "cross", rows: 2, queries: 50, keys: 70, heads: 2, headDim: 16, validKeys: 9),
        ]
        var reported: [String] = []
        let rows = try bench.run { reported.append($0.name) }
        XCTAssertEqual(rows.map(\.name), reported)
        XCTAssertEqual(
            rows.map(\.name),
            ["gemm_peak", "attention_self", "attention_self", "attention_cross", "attention_cross"])
        XCTAssertEqual(rows.dropFirst().map(\.implementation), ["fused", "gemm", "fused", "gemm"])
        let peak = try XCTUnwrap(rows.first?.gflops)
        for r in rows.dropFirst() {
            XCTAssertEqual(r.runs, 2)
            XCTAssertEqual(try XCTUnwrap(r.ofPeak), try XCTUnwrap(r.gflops) / peak, accuracy: 1e-12)
        }
        // 4·rows·heads·queries·keys·hd, masked keys included.
        XCTAssertEqual(rows[1].gflops! * rows[1].seconds * 1e9, 4 * 2 * 2 * 100 * 100 * 24, accuracy: 1)
        XCTAssertEqual(rows[3].gflops! * rows[3].seconds * 1e9, 4 * 2 * 2 * 50 * 70 * 16, accuracy: 1)
        XCTAssertTrue(BenchmarkReport.table(rows).contains("kernel"))
    }

    func testReleasedShapes() {
        let byName = Dictionary(uniqueKeysWithValues: AttentionShape.released.map { ($0.name, $0) })
        // T2V: 64x64 latents, patch 2 → 1,024 tokens a frame; 16 frames x CFG batch 2 = 32 rows; 16 x 72 heads.
        XCTAssertEqual(byName["t2v_spatial"]?.description, "32x1024x1024 16x72")
        XCTAssertEqual(byName["c2v_spatial"]?.description, "32x256x256 16x72")
        XCTAssertEqual(byName["t2v_cross"]?.keys, 120)
        XCTAssertEqual(byName["t5_self"]?.heads, 64)
    }
}
