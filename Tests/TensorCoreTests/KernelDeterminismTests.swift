// The hot kernels are deterministic: on all cores, run after run, each gives bit-identical output
// (Parallel splits work by the thread count, never by timing); our own kernels give the same bits
// whatever the operands' alignment; and a GEMM engine's result depends on its operands' values and
// their alignment modulo 64 only, not on their addresses or the memory around them (what makes
// `ScratchMemory`'s 64-byte alignment enough for run-to-run reproducibility). Bit patterns are
// compared, so -0.0 vs 0.0 or two NaN payloads count as differences.

import TensorCore
import XCTest

final class KernelDeterminismTests: XCTestCase {
    private let repeats = 8
    private var savedThreads = 1

    override func setUp() {
        super.setUp()
        savedThreads = Parallel.threadCount
        Parallel.threadCount = max(2, ProcessInfo.processInfo.activeProcessorCount)
    }

    override func tearDown() {
        Parallel.threadCount = savedThreads
        super.tearDown()
    }

    /// Every engine available here, multi-threaded.
    private func engines() throws -> [(String, GEMMEngine)] {
        let threads = Parallel.threadCount
        var list: [(String, GEMMEngine)] = [
            ("openblas", try makeGEMMEngine(ComputeOptions(backend: .openblas, threads: threads))),
            ("onednn-fp32", try makeGEMMEngine(ComputeOptions(backend: .onednn, threads: threads))),
        ]
        if let bf16 = try? makeGEMMEngine(ComputeOptions(backend: .onednn, precision: .bf16, threads: threads)) {
            list.append(("onednn-bf16", bf16))
        }
        return list
    }

    /// Runs `body` `repeats` times and asserts every run's bits equal the first's.
    private func assertRepeatable(_ what: String, _ body: () -> [Float], file: StaticString = #filePath, line: UInt = #line)
    {
        let first = body().map(\.bitPattern)
        for run in 1..<repeats {
            let again = body().map(\.bitPattern)
            guard let i = first.indices.first(where: { first[$0] != again[$0] }) else { continue }
            XCTFail(
                "\(what): run \(run) differs from run 0 at element \(i) (\(Float(bitPattern: again[i])) vs \(Float(bitPattern: first[i])))",
                file: file, line: line)
            return
        }
    }

    /// A copy of `values` at `offset` floats past a 64-byte boundary, surrounded by NaN.
    private func placed(_ values: [Float], offset: Int) -> (UnsafeMutablePointer<Float>, () -> Void) {
        let base = ScratchMemory.allocateFloats(values.count + offset + 16)
        base.update(repeating: .nan, count: values.count + offset + 16)
        (base + offset).update(from: values, count: values.count)
        return (base + offset, { ScratchMemory.release(base) })
    }

    func testGEMMEnginesRepeatOnAllCores() throws {
        var random = SeededRandom(seed: 14)
        // Shapes of the models: a Latte linear (tokens x D -> 3D), a narrow one, a skinny K.
        for (m, n, k) in [(512, 192, 64), (33, 1152 / 8, 1152 / 4), (1024, 64, 8)] {
            let x = random.tensor([m, k]), w = random.tensor([n, k]), bias = random.tensor([n])
            for (name, engine) in try engines() {
                let prepared = engine.prepare(weight: w)
                assertRepeatable("\(name) linear \(m)x\(n)x\(k)") {
                    var y = Tensor(zeros: [m, n])
                    let yp = y.mutablePointer()
                    engine.linear(x.pointer, rows: m, weight: prepared, bias: bias.pointer, into: yp)
                    return y.scalars
                }
            }
        }
    }

    func testGEMMDependsOnAlignmentModulo64OnlyNotOnAddressesOrNeighbours() throws {
        var random = SeededRandom(seed: 15)
        let (m, n, k) = (96, 80, 72)
        let xv = random.tensor([m, k]).scalars, w = random.tensor([n, k])
        for (name, engine) in try engines() {
            let prepared = engine.prepare(weight: w)
            for offset in [0, 4, 7] {
                var results: [[UInt32]] = []
                for _ in 0..<3 {
                    let (x, freeX) = placed(xv, offset: offset)
                    let (y, freeY) = placed([Float](repeating: 0, count: m * n), offset: offset)
                    engine.linear(x, rows: m, weight: prepared, bias: nil, into: y)
                    results.append(UnsafeBufferPointer(start: y, count: m * n).map(\.bitPattern))
                    freeX()
                    freeY()
                }
                XCTAssertEqual(results[0], results[1], "\(name): offset \(offset), two buffers")
                XCTAssertEqual(results[0], results[2], "\(name): offset \(offset), three buffers")
            }
        }
    }

    func testAttentionRepeatsOnAllCoresOnBothPaths() throws {
        var random = SeededRandom(seed: 16)
        let engine = try makeGEMMEngine(ComputeOptions(backend: .openblas, threads: Parallel.threadCount))
        // keys 16: the SIMD path (temporal attention); keys 80: the fused and the GEMM path.
        for (tokens, kernel) in [(16, AttentionKernel.fused), (Attention.smallKeyLimit + 16, .fused), (80, .gemm)] {
            let heads = 4, d = 64
            let qkv = random.tensor([6, tokens, 3 * d])
            let mask = Tensor(shape: [6, tokens], values: (0..<(6 * tokens)).map { $0 % 5 == 4 ? 0 : 1 })
            let bias = random.tensor([heads, tokens, tokens])
            assertRepeatable("self-attention, \(tokens) tokens, \(kernel)") {
                Attention.selfAttention(qkv: qkv, heads: heads, scale: 0.125, engine: engine, kernel: kernel).scalars
            }
            let q = random.tensor([6, tokens, d]), kv = random.tensor([6, tokens, d])
            assertRepeatable("masked attention with bias, \(tokens) tokens, \(kernel)") {
                Attention.attention(
                    q: q, k: kv, v: kv, heads: heads, scale: 0.125, keyMask: mask, bias: bias, engine: engine,
                    kernel: kernel
                ).scalars
            }
        }
    }

    func testFusedAttentionIgnoresThreadCount() throws {
        // The fused kernel's sums are ordered by its block sizes alone: 1 worker and all give the same bits.
        var random = SeededRandom(seed: 18)
        let engine = try makeGEMMEngine(ComputeOptions(backend: .openblas, threads: Parallel.threadCount))
        let qkv = random.tensor([3, 150, 3 * 4 * 24])
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var results: [[UInt32]] = []
        for threads in [1, max(2, saved), 3] {
            Parallel.threadCount = threads
            let out = Attention.selfAttention(qkv: qkv, heads: 4, scale: 0.2, engine: engine)
            results.append(out.scalars.map(\.bitPattern))
        }
        XCTAssertEqual(results[0], results[1], "1 worker vs \(max(2, saved))")
        XCTAssertEqual(results[0], results[2], "1 worker vs 3")
    }

    func testOwnKernelsRepeatAndIgnoreAlignment() {
        var random = SeededRandom(seed: 17)
        let (rows, dim) = (300, 72)
        let xv = random.tensor([rows, dim]).scalars
        let shift = random.tensor([dim]).scalars, scale = random.tensor([dim]).scalars
        func run(offset: Int) -> [Float] {
            let (x, freeX) = placed(xv, offset: offset)
            let (sh, freeShift) = placed(shift, offset: offset)
            let (sc, freeScale) = placed(scale, offset: offset)
            let (y, freeY) = placed([Float](repeating: 0, count: rows * dim), offset: offset)
            defer { [freeX, freeShift, freeScale, freeY].forEach { $0() } }
            Norm.layerNormModulated(
                x, rows: rows, tokens: 1, dim: dim, shift: sh, scale: sc, condRowStride: 0, eps: 1e-6, into: y)
            Activation.geluTanh(y, count: rows * dim, into: y)
            Softmax.rows(y, rows: rows, dim: dim, into: y)
            Norm.rmsNorm(y, rows: rows, dim: dim, weight: sc, eps: 1e-6, into: y)
            return Array(UnsafeBufferPointer(start: y, count: rows * dim))
        }
        assertRepeatable("norm, GELU, softmax, RMSNorm") { run(offset: 0) }
        let aligned = run(offset: 0).map(\.bitPattern)
        for offset in 1..<16 {
            XCTAssertEqual(run(offset: offset).map(\.bitPattern), aligned, "operands \(offset) floats past 64 bytes")
        }
    }
}
