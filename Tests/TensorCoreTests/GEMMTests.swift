// GEMM engines (OpenBLAS fp32, oneDNN fp32 and bf16) against a naive Double reference on odd
// shapes, transposes, padded leading dimensions, alpha/beta, bias and accumulate; the primitive
// cache under repeated/interleaved shapes and concurrent callers; bf16 rounding; engine selection.

import Foundation
import TensorCore
import XCTest

/// Deterministic pseudo-random numbers in [-1, 1).
private struct LCG {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % (1 << 24)) / Float(1 << 24) * 2 - 1
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// fp32 unit roundoff, 2^-24.
private let fp32Unit = 0x1p-24
/// bf16 unit roundoff: 8 significant bits, so 2^-8.
private let bf16Unit = 0x1p-8
/// Relative tolerance of an fp32-accumulated dot product, measured against Σ|a·b| (the brief's ~1e-5;
/// blocked summation stays far below the worst case k·2^-24 for the k used here).
private let fp32Tolerance = 1e-5
/// Rounding both factors to bf16 perturbs each product by at most (1+u)² - 1 = 2u + u² of |a·b|;
/// add the fp32 accumulation error on top.
private let bf16Tolerance = 2 * bf16Unit + bf16Unit * bf16Unit + fp32Tolerance

/// Naive reference for C = alpha·op(A)·op(B) + beta·C in Double; also returns Σ|terms| per element.
private func referenceGEMM(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int, b: [Float], ldb: Int,
    beta: Float, c: [Float], ldc: Int
) -> (values: [Double], scale: [Double]) {
    var out = [Double](repeating: 0, count: m * n)
    var scale = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0, abs = 0.0
            for p in 0..<k {
                let av = Double(transA ? a[p * lda + i] : a[i * lda + p])
                let bv = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                s += av * bv
                abs += Swift.abs(av * bv)
            }
            let c0 = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            out[i * n + j] = Double(alpha) * s + c0
            scale[i * n + j] = Swift.abs(Double(alpha)) * abs + Swift.abs(c0)
        }
    }
    return (out, scale)
}

/// Every engine available here, labelled. bf16 needs an AVX-512 CPU (oneDNN 2.6); without one it
/// is left out here and `testEngineSelection` checks the error instead.
private func allEngines() throws -> [(String, GEMMEngine)] {
    var engines: [(String, GEMMEngine)] = [
        ("openblas", try OpenBLASEngine()),
        ("onednn-fp32", try OneDNNEngine(precision: .fp32)),
    ]
    if let bf16 = try? OneDNNEngine(precision: .bf16) { engines.append(("onednn-bf16", bf16)) }
    return engines
}

final class GEMMTests: XCTestCase {
    /// Odd (M, N, K) triples, including 1s and sizes just past powers of two.
    private let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 7, 13), (7, 1, 13), (13, 7, 1), (65, 129, 33), (129, 65, 257), (3, 200, 17),
    ]

    /// General gemm (always fp32) for every engine: all transposes, padded leading dims, alpha and beta.
    func testGEMMMatchesReference() throws {
        var rng = LCG(state: 1)
        for (name, engine) in try allEngines() {
            for (m, n, k) in shapes {
                for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                    for (pad, alpha, beta): (Int, Float, Float) in [(0, 1, 0), (3, 0.5, 1), (5, -1.25, 0.75)] {
                        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
                        let a = rng.array((transA ? k : m) * lda), b = rng.array((transB ? n : k) * ldb)
                        var c = rng.array(m * ldc)
                        // beta = 0 must not read C: poison it.
                        if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } } }
                        let ref = referenceGEMM(
                            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                            ldb: ldb, beta: beta, c: c, ldc: ldc)
                        var got = c
                        a.withUnsafeBufferPointer { ap in
                            b.withUnsafeBufferPointer { bp in
                                got.withUnsafeMutableBufferPointer { cp in
                                    engine.gemm(
                                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                        a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta,
                                        c: cp.baseAddress!, ldc: ldc)
                                }
                            }
                        }
                        let label = "\(name) \(m)x\(n)x\(k) tA=\(transA) tB=\(transB) pad=\(pad) α=\(alpha) β=\(beta)"
                        var worst = 0.0
                        for i in 0..<m {
                            for j in 0..<n {
                                let e = abs(Double(got[i * ldc + j]) - ref.values[i * n + j])
                                let tol = fp32Tolerance * ref.scale[i * n + j] + 1e-30
                                if !(e <= tol) { worst = max(worst, e.isNaN ? .infinity : e / tol) }
                            }
                            for j in n..<ldc where got[i * ldc + j].bitPattern != c[i * ldc + j].bitPattern {
                                XCTFail("\(label): padding C[\(i), \(j)] was written")
                            }
                        }
                        XCTAssertEqual(worst, 0, "\(label): error exceeds tolerance by \(worst)x")
                    }
                }
            }
        }
    }

    /// linear: y = x·Wᵀ (+ bias) (+ y) for every engine; bf16 is checked twice: tightly against a
    /// reference on bf16-rounded inputs, and against the exact reference with the derived bf16 bound.
    func testLinearMatchesReference() throws {
        var rng = LCG(state: 2)
        for (name, engine) in try allEngines() {
            let bf16 = engine.precision == .bf16
            for (m, n, k) in shapes {
                let x = rng.array(m * k), w = rng.array(n * k), bias = rng.array(n), y0 = rng.array(m * n)
                let weight = engine.prepare(weight: Tensor(shape: [n, k], values: w))
                XCTAssertEqual(weight.outFeatures, n)
                XCTAssertEqual(weight.inFeatures, k)
                for (useBias, accumulate) in [(false, false), (true, false), (false, true), (true, true)] {
                    var y = accumulate ? y0 : [Float](repeating: .nan, count: m * n)
                    x.withUnsafeBufferPointer { xp in
                        bias.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                engine.linear(
                                    xp.baseAddress!, rows: m, weight: weight, bias: useBias ? bp.baseAddress! : nil,
                                    into: yp.baseAddress!, accumulate: accumulate)
                            }
                        }
                    }
                    let label = "\(name) linear \(m)x\(n)x\(k) bias=\(useBias) accumulate=\(accumulate)"
                    let rounded: (Float) -> Float = bf16 ? BFloat16.rounded : { $0 }
                    var worstExact = 0.0, worstRounded = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var exact = 0.0, roundedSum = 0.0, scale = 0.0
                            for p in 0..<k {
                                let xv = x[i * k + p], wv = w[j * k + p]
                                exact += Double(xv) * Double(wv)
                                roundedSum += Double(rounded(xv)) * Double(rounded(wv))
                                scale += abs(Double(xv) * Double(wv))
                            }
                            var extra = 0.0
                            if useBias { extra += Double(bias[j]) }
                            if accumulate { extra += Double(y0[i * n + j]) }
                            let s = scale + abs(extra)
                            let got = Double(y[i * n + j])
                            let eExact = abs(got - (exact + extra)), eRounded = abs(got - (roundedSum + extra))
                            let tolExact = (bf16 ? bf16Tolerance : fp32Tolerance) * s + 1e-30
                            let tolRounded = fp32Tolerance * s + 1e-30
                            if !(eExact <= tolExact) {
                                worstExact = max(worstExact, eExact.isNaN ? .infinity : eExact / tolExact)
                            }
                            if !(eRounded <= tolRounded) {
                                worstRounded = max(worstRounded, eRounded.isNaN ? .infinity : eRounded / tolRounded)
                            }
                        }
                    }
                    XCTAssertEqual(
                        worstExact, 0, "\(label): error vs exact reference exceeds tolerance by \(worstExact)x")
                    XCTAssertEqual(
                        worstRounded, 0, "\(label): error vs rounded-input reference exceeds by \(worstRounded)x")
                }
            }
        }
    }

    /// Repeated and interleaved shapes reuse primitives and give bit-identical results.
    func testPrimitiveCacheIsConsistent() throws {
        for precision in Precision.allCases {
            guard let engine = try? OneDNNEngine(precision: precision) else {
                XCTAssertEqual(precision, .bf16, "oneDNN fp32 must load")
                continue
            }
            let before = engine.cachedPrimitiveCount
            var rng = LCG(state: 3)
            let dims = [(5, 9, 17), (33, 17, 9), (5, 17, 9)]
            let cases = dims.map { (m, n, k) in
                (
                    m: m, n: n, x: rng.array(m * k),
                    w: engine.prepare(weight: Tensor(shape: [n, k], values: rng.array(n * k)))
                )
            }
            func run(_ i: Int) -> [Float] {
                let c = cases[i]
                var y = [Float](repeating: 0, count: c.m * c.n)
                c.x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        engine.linear(xp.baseAddress!, rows: c.m, weight: c.w, bias: nil, into: yp.baseAddress!)
                    }
                }
                return y
            }
            let first = (0..<cases.count).map(run)
            for i in [2, 0, 1, 1, 0, 2, 0, 2, 1] {
                XCTAssertEqual(run(i), first[i], "\(precision) case \(i) changed on reuse")
            }
            XCTAssertEqual(engine.cachedPrimitiveCount - before, cases.count, "\(precision): one primitive per shape")
        }
    }

    /// Several threads using one engine at once (shared and distinct shapes) get correct results.
    func testConcurrentCalls() throws {
        for (name, engine) in try allEngines() {
            var rng = LCG(state: 4)
            let dims = [(31, 19, 23), (64, 48, 40), (31, 19, 23), (7, 100, 12)]
            let cases = dims.map { (m, n, k) in
                (m: m, n: n, k: k, x: rng.array(m * k), w: rng.array(n * k))
            }
            let weights = cases.map { engine.prepare(weight: Tensor(shape: [$0.n, $0.k], values: $0.w)) }
            let serial: [[Float]] = cases.indices.map { i in
                var y = [Float](repeating: 0, count: cases[i].m * cases[i].n)
                cases[i].x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        engine.linear(
                            xp.baseAddress!, rows: cases[i].m, weight: weights[i], bias: nil, into: yp.baseAddress!)
                    }
                }
                return y
            }
            let lock = NSLock()
            var failures: [String] = []
            DispatchQueue.concurrentPerform(iterations: 16) { t in
                let i = t % cases.count
                for _ in 0..<5 {
                    var y = [Float](repeating: 0, count: cases[i].m * cases[i].n)
                    cases[i].x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            engine.linear(
                                xp.baseAddress!, rows: cases[i].m, weight: weights[i], bias: nil, into: yp.baseAddress!)
                        }
                    }
                    let diff = zip(y, serial[i]).map { abs($0 - $1) }.max() ?? 0
                    if !(diff <= 1e-5) {
                        lock.lock()
                        failures.append("\(name) thread \(t) case \(i): max diff \(diff)")
                        lock.unlock()
                    }
                }
            }
            XCTAssertEqual(failures, [])
        }
    }

    /// bf16 rounding is to nearest, ties to even; the vectorised conversion matches the scalar one.
    func testBFloat16Rounding() {
        XCTAssertEqual(BFloat16.rounded(1), 1)
        XCTAssertEqual(BFloat16.rounded(1 + 0x1p-8), 1)  // tie, rounds to even (1.0)
        XCTAssertEqual(BFloat16.rounded(1 + 3 * 0x1p-8), 1 + 0x1p-6)  // tie, rounds to even (up)
        XCTAssertEqual(BFloat16.rounded(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7)  // above the tie
        XCTAssertEqual(BFloat16.rounded(-2.5), -2.5)
        XCTAssertEqual(BFloat16.rounded(.infinity), .infinity)
        XCTAssertTrue(BFloat16.rounded(.nan).isNaN)
        XCTAssertEqual(BFloat16.rounded(Float.greatestFiniteMagnitude), .infinity)
        var rng = LCG(state: 5)
        var values = rng.array(1000).map { $0 * 1000 }
        values[3] = .nan
        values[17] = -.infinity
        values[40] = 0x1p-130  // subnormal
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer {
                BFloat16.encode(v.baseAddress!, count: v.count, into: $0.baseAddress!)
            }
        }
        for (v, o) in zip(values, out) {
            XCTAssertEqual(o, BFloat16.bits(v), "\(v)")
            let back = Float(bitPattern: UInt32(o) << 16)
            if v.isNaN {
                XCTAssertTrue(back.isNaN)
            } else if v.isFinite {
                XCTAssertLessThanOrEqual(abs(Double(back) - Double(v)), bf16Unit * abs(Double(v)), "\(v)")
            }
        }
    }

    /// The factory applies the selection rules and reports typed errors.
    func testEngineSelection() throws {
        let auto = try makeGEMMEngine(ComputeOptions())
        XCTAssertEqual(auto.backend, .onednn)
        XCTAssertEqual(auto.precision, .fp32)
        let blas = try makeGEMMEngine(ComputeOptions(backend: .openblas))
        XCTAssertEqual(blas.backend, .openblas)
        do {
            let bf16 = try makeGEMMEngine(ComputeOptions(backend: .auto, precision: .bf16))
            XCTAssertEqual(bf16.backend, .onednn)
            XCTAssertEqual(bf16.precision, .bf16)
            let info = try XCTUnwrap((bf16 as? GEMMEngineDescribing)?.info)
            XCTAssertEqual(info.notes.isEmpty, try XCTUnwrap(bf16 as? OneDNNEngine).hasNativeBF16)
        } catch ComputeError.precisionUnsupported(.onednn, .bf16, _) {
            // A CPU without AVX-512: oneDNN 2.6 has no bf16 matmul; the error says so.
        }
        XCTAssertThrowsError(try makeGEMMEngine(ComputeOptions(backend: .openblas, precision: .bf16))) { error in
            guard case ComputeError.precisionUnsupported(.openblas, .bf16, _) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue("\(error)".contains("Hint"))
        }
        XCTAssertThrowsError(try makeGEMMEngine(ComputeOptions(threads: 0)))
    }
}
