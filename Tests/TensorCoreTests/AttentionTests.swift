// Multi-head attention (packed qkv, separate q/k/v, cross-attention, key mask, additive bias,
// shared K/V, large single-head tiles) vs a Double triple loop, on both kernels for large tiles.

import Foundation
import TensorCore
import XCTest

final class AttentionTests: XCTestCase {
    /// out[r, i, e·hd + c] for q (R, Nq, H·hd), k/v (R or 1, Nk, H·hd), mask (R, Nk), bias (H, Nq, Nk).
    func reference(
        q: [Double], k: [Double], v: [Double], rows: Int, nq: Int, nk: Int, heads: Int, hd: Int, scale: Double,
        sharedKV: Bool = false, mask: [Double]? = nil, bias: [Double]? = nil
    ) -> [Double] {
        let d = heads * hd
        var out = [Double](repeating: 0, count: rows * nq * d)
        for r in 0..<rows {
            let kr = sharedKV ? 0 : r
            for e in 0..<heads {
                for i in 0..<nq {
                    var s = [Double](repeating: 0, count: nk)
                    var keep = (0..<nk).map { j in mask.map { $0[r * nk + j] != 0 } ?? true }
                    if !keep.contains(true) { keep = [Bool](repeating: true, count: nk) }
                    let allMasked = mask != nil && !(0..<nk).contains { mask?[r * nk + $0] != 0 }
                    for j in 0..<nk {
                        var dot = 0.0
                        for c in 0..<hd { dot += q[(r * nq + i) * d + e * hd + c] * k[(kr * nk + j) * d + e * hd + c] }
                        s[j] = allMasked ? 0 : dot * scale + (bias?[(e * nq + i) * nk + j] ?? 0)
                    }
                    let m = (0..<nk).filter { keep[$0] }.map { s[$0] }.max() ?? 0
                    let p = (0..<nk).map { keep[$0] ? Foundation.exp(s[$0] - m) : 0 }
                    let z = p.reduce(0, +)
                    for c in 0..<hd {
                        var acc = 0.0
                        for j in 0..<nk { acc += p[j] / z * v[(kr * nk + j) * d + e * hd + c] }
                        out[(r * nq + i) * d + e * hd + c] = acc
                    }
                }
            }
        }
        return out
    }

    func testPackedSelfAttention() throws {
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 30)
        for (r, n, heads, hd) in [(1, 1, 1, 4), (3, 13, 3, 5), (8, 16, 4, 9), (2, 40, 2, 24), (3, 101, 2, 72)] {
            let d = heads * hd
            let qkv = rng.tensor([r, n, 3 * d])
            let outs = AttentionKernel.allCases.map {
                Attention.selfAttention(
                    qkv: qkv, heads: heads, scale: 1 / Float(hd).squareRoot(), engine: engine, kernel: $0)
            }
            let all = qkv.doubles
            func pick(_ part: Int) -> [Double] {
                var out: [Double] = []
                for t in 0..<(r * n) {
                    let start = t * 3 * d + part * d
                    out += all[start..<(start + d)]
                }
                return out
            }
            let want = reference(
                q: pick(0), k: pick(1), v: pick(2), rows: r, nq: n, nk: n, heads: heads, hd: hd,
                scale: 1 / Double(Float(hd).squareRoot()))
            for (out, kernel) in zip(outs, AttentionKernel.allCases) {
                XCTAssertEqual(out.shape, [r, n, d])
                assertClose(out.scalars, want, "packed r\(r) n\(n) h\(heads)x\(hd), \(kernel)")
            }
        }
    }

    func testCrossAttentionMaskBias() throws {
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 31)
        // 11 keys: SIMD tile kernel; 70 and 130 keys: fused or GEMM kernel.
        for nk in [11, 70, 130] {
            let (r, nq, heads, hd) = (3, 7, 4, 8)
            let d = heads * hd
            let q = rng.tensor([r, nq, d]), k = rng.tensor([r, nk, d]), v = rng.tensor([r, nk, d])
            var maskValues = [Float](repeating: 1, count: r * nk)
            for j in 5..<nk { maskValues[j] = 0 }  // row 0: padding after 5 keys
            for j in [0, 3, 10] { maskValues[nk + j] = 0 }  // row 1: scattered
            for j in 0..<nk { maskValues[2 * nk + j] = 0 }  // row 2: everything masked -> uniform
            let mask = Tensor(shape: [r, nk], values: maskValues)
            let bias = rng.tensor([heads, nq, nk], scale: 3)
            let want = reference(
                q: q.doubles, k: k.doubles, v: v.doubles, rows: r, nq: nq, nk: nk, heads: heads, hd: hd,
                scale: 1, mask: mask.doubles, bias: bias.doubles)
            for kernel in AttentionKernel.allCases {
                let got = Attention.attention(
                    q: q, k: k, v: v, heads: heads, scale: 1, keyMask: mask, bias: bias, engine: engine, kernel: kernel)
                assertClose(got.scalars, want, "mask + bias, \(nk) keys, \(kernel)")
            }
            // Without the mask the result must differ (the test can fail).
            let unmasked = Attention.attention(q: q, k: k, v: v, heads: heads, scale: 1, bias: bias, engine: engine)
            XCTAssertGreaterThan(zip(unmasked.scalars, want).map { abs(Double($0) - $1) }.max() ?? 0, 1e-3)
        }
    }

    func testSharedKVAndBlocks() throws {
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 32)
        // 8 (row, head) pairs, 250 queries x 300 keys: several query blocks, the last one partial.
        let (r, nq, nk, heads, hd) = (4, 250, 300, 2, 6)
        let d = heads * hd
        let q = rng.tensor([r, nq, d]), k = rng.tensor([1, nk, d]), v = rng.tensor([1, nk, d])
        let got = Attention.attention(q: q, k: k, v: v, heads: heads, scale: 0.3, engine: engine)
        let want = reference(
            q: q.doubles, k: k.doubles, v: v.doubles, rows: r, nq: nq, nk: nk, heads: heads, hd: hd,
            scale: Double(Float(0.3)), sharedKV: true)
        assertClose(got.scalars, want, "shared kv")
    }

    func testLargeSingleHead() throws {
        // VAE-style: one row, one head, big tile (runs tiles one at a time with parallel softmax).
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 33)
        let (n, c) = (300, 64)
        let q = rng.tensor([1, n, c], scale: 0.5), k = rng.tensor([1, n, c], scale: 0.5), v = rng.tensor([1, n, c])
        let scale = 1 / Float(c).squareRoot()
        let got = Attention.attention(q: q, k: k, v: v, heads: 1, scale: scale, engine: engine)
        let want = reference(
            q: q.doubles, k: k.doubles, v: v.doubles, rows: 1, nq: n, nk: n, heads: 1, hd: c,
            scale: Double(scale))
        assertClose(got.scalars, want, "single head")
    }

    func testFusedKernelBlocksAndHeadDims() throws {
        // Query counts around the 48-query tile and its 6/4-row register tiles, key counts around the
        // 64-key block, every head dim shape of the 24/8-channel value tiles, shared K/V, and a mask
        // that excludes a whole first key block of one row (the running maximum starts at -inf).
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 34)
        for (nq, nk, hd) in [(1, 65, 8), (47, 64, 16), (49, 127, 24), (100, 130, 40), (53, 200, 72), (7, 90, 256)] {
            let (r, heads) = (2, 2)
            let d = heads * hd
            let q = rng.tensor([r, nq, d], scale: 2), k = rng.tensor([r, nk, d]), v = rng.tensor([r, nk, d])
            var maskValues = [Float](repeating: 1, count: r * nk)
            for j in 0..<min(64, nk - 1) { maskValues[nk + j] = 0 }
            let mask = Tensor(shape: [r, nk], values: maskValues)
            let got = Attention.attention(
                q: q, k: k, v: v, heads: heads, scale: 1 / Float(hd).squareRoot(), keyMask: mask, engine: engine)
            let want = reference(
                q: q.doubles, k: k.doubles, v: v.doubles, rows: r, nq: nq, nk: nk, heads: heads, hd: hd,
                scale: 1 / Double(Float(hd).squareRoot()), mask: mask.doubles)
            assertClose(got.scalars, want, "fused nq\(nq) nk\(nk) hd\(hd)")
            let k1 = Tensor(shape: [1, nk, d], values: Array(k.scalars[0..<(nk * d)]))
            let v1 = Tensor(shape: [1, nk, d], values: Array(v.scalars[0..<(nk * d)]))
            let scale = 1 / Float(hd).squareRoot()
            let shared = Attention.attention(q: q, k: k1, v: v1, heads: heads, scale: scale, engine: engine)
            let wantShared = reference(
                q: q.doubles, k: k1.doubles, v: v1.doubles, rows: r, nq: nq, nk: nk, heads: heads, hd: hd,
                scale: Double(scale), sharedKV: true)
            assertClose(shared.scalars, wantShared, "fused shared kv nq\(nq) nk\(nk) hd\(hd)")
        }
    }
}
