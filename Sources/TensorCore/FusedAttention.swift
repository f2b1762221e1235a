// Fused (flash-style) attention for tiles with many keys. Each tile is (row, head, block of
// `queryBlock` queries); it walks the keys in blocks of `keyBlock`, keeps that block's scores in
// L1, and folds them into the tile's output with an online softmax (running row maximum m and sum
// l; the output is rescaled by e^(m_old − m_new) whenever the maximum grows). The score matrix never
// reaches memory, and tiles run concurrently on all cores without library calls.
//
// Arithmetic is fp32 with FMA (AVX2 SIMD8 register tiles: 6 queries x 16 keys for the scores,
// 4 queries x 24 channels for P·V). The order of every sum is fixed by the block sizes alone, so a
// result does not depend on the thread count or on which worker ran the tile.

import Foundation

extension Attention {
    /// Queries per fused tile (a multiple of both register tiles' rows, 6 and 4).
    static let fusedQueryBlock = 48
    /// Keys per score block (a multiple of the score tile's 16 columns): 48 x 64 scores = 12 KiB.
    static let fusedKeyBlock = 64
    /// Head dims the fused kernel takes: whole SIMD8 vectors, at most this many channels (larger
    /// heads, the VAE's single 512-channel head, keep the GEMM path).
    static let fusedHeadDimLimit = 256

    static func fusable(headDim: Int) -> Bool { headDim % 8 == 0 && headDim <= fusedHeadDimLimit }
}

extension Attention.Geometry {
    /// Runs every (row, head, query block) tile of `rows` rows on the fused kernel.
    func runFused(rows: Int) {
        let bq = Attention.fusedQueryBlock
        let blocks = (queries + bq - 1) / bq
        let tiles = rows * heads * blocks
        Parallel.forRange(tiles) { range in
            let space = FusedWorkspace(geometry: self)
            defer { space.release() }
            var packedPair = -1
            for tile in range {
                let pair = tile / blocks
                if pair != packedPair {
                    space.pack(pair: pair)
                    packedPair = pair
                }
                space.run(pair: pair, firstQuery: (tile % blocks) * bq)
            }
        }
    }
}

/// One worker's buffers for fused tiles: Kᵀ and V of the current (row, head) pair packed contiguous
/// with zero padding to whole key blocks, the score block, and the tile's running output and softmax
/// state. Everything a tile reads it has written first.
final class FusedWorkspace {
    let g: Attention.Geometry
    /// Keys rounded up to whole key blocks.
    let paddedKeys: Int
    let base: UnsafeMutablePointer<Float>
    /// Kᵀ (headDim, paddedKeys), V (paddedKeys, headDim), S (queryBlock, keyBlock), O (queryBlock,
    /// headDim), m and l (queryBlock).
    let kt: UnsafeMutablePointer<Float>, vp: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>
    let o: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, l: UnsafeMutablePointer<Float>
    /// The packed pair's key mask row (nil: no mask) and whether it excludes every key.
    var mask: UnsafePointer<Float>?
    var allMasked = false

    init(geometry: Attention.Geometry) {
        g = geometry
        let kb = Attention.fusedKeyBlock, qb = Attention.fusedQueryBlock, hd = geometry.headDim
        paddedKeys = (geometry.keys + kb - 1) / kb * kb
        base = ScratchMemory.allocateFloats(2 * hd * paddedKeys + qb * kb + qb * hd + 2 * qb)
        kt = base
        vp = kt + hd * paddedKeys
        s = vp + paddedKeys * hd
        o = s + qb * kb
        m = o + qb * hd
        l = m + qb
    }

    func release() { ScratchMemory.release(base) }

    /// Packs Kᵀ and V of pair (row r, head e); padding keys are zero.
    func pack(pair: Int) {
        let r = pair / g.heads, e = pair % g.heads
        let hd = g.headDim, nkp = paddedKeys
        let vsrc = g.v.pointer + r * g.v.rowStride + e * hd
        g.transposeKeys(row: r, head: e, into: kt, columns: nkp)
        for j in 0..<g.keys { (vp + j * hd).update(from: vsrc + j * g.v.tokenStride, count: hd) }
        for c in 0..<hd { (kt + c * nkp + g.keys).update(repeating: 0, count: nkp - g.keys) }
        (vp + g.keys * hd).update(repeating: 0, count: (nkp - g.keys) * hd)
        (mask, allMasked) = g.keyMask(row: r)
    }

    /// One tile: queries firstQuery ..< firstQuery + queryBlock (clipped) of the packed pair.
    func run(pair: Int, firstQuery q0: Int) {
        let r = pair / g.heads, e = pair % g.heads
        let hd = g.headDim, bk = Attention.fusedKeyBlock
        let nb = min(Attention.fusedQueryBlock, g.queries - q0)
        let out = g.output + (r * g.queries + q0) * g.ots + e * hd
        if allMasked {
            // Every key excluded: uniform weights over all keys (what an additive finfo.min mask gives).
            meanOfValues(into: out, rows: nb)
            return
        }
        let qp = g.q.pointer + r * g.q.rowStride + q0 * g.q.tokenStride + e * hd
        o.update(repeating: 0, count: nb * hd)
        m.update(repeating: -.infinity, count: nb)
        l.update(repeating: 0, count: nb)
        var k0 = 0
        while k0 < g.keys {
            let valid = min(bk, g.keys - k0)
            var i = 0
            while i < nb {
                scoreTile(qp + i * g.q.tokenStride, rows: min(6, nb - i), keysFrom: k0, into: s + i * bk)
                i += 6
            }
            for i in 0..<nb { foldScores(row: i, query: q0 + i, head: e, firstKey: k0, validKeys: valid) }
            i = 0
            while i < nb {
                accumulateValues(rows: min(4, nb - i), from: i, firstKey: k0, keys: valid)
                i += 4
            }
            k0 += bk
        }
        for i in 0..<nb {
            let inv = SIMD8<Float>(repeating: 1 / l[i])
            var c = 0
            while c < hd {
                store8(load8(o + i * hd + c) * inv, out + i * g.ots + c)
                c += 8
            }
        }
    }

    /// S[i, 0 ..< keyBlock] = scale · q_i · k_j for keys k0 ..< k0 + keyBlock, `rows` ≤ 6 queries
    /// (missing rows repeat the first; their scores are not stored).
    @inline(__always)
    func scoreTile(_ q: UnsafePointer<Float>, rows: Int, keysFrom k0: Int, into s: UnsafeMutablePointer<Float>) {
        let ts = g.q.tokenStride, hd = g.headDim, nkp = paddedKeys, bk = Attention.fusedKeyBlock
        let q1 = rows > 1 ? q + ts : q, q2 = rows > 2 ? q + 2 * ts : q, q3 = rows > 3 ? q + 3 * ts : q
        let q4 = rows > 4 ? q + 4 * ts : q, q5 = rows > 5 ? q + 5 * ts : q
        let scale = SIMD8<Float>(repeating: g.scale)
        var j = 0
        while j < bk {
            var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
            var a2 = SIMD8<Float>(), b2 = SIMD8<Float>(), a3 = SIMD8<Float>(), b3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), b4 = SIMD8<Float>(), a5 = SIMD8<Float>(), b5 = SIMD8<Float>()
            var kc = UnsafePointer(kt + k0 + j)
            for c in 0..<hd {
                let x = load8(kc), y = load8(kc + 8)
                var w = SIMD8<Float>(repeating: q[c])
                a0 = a0.addingProduct(w, x)
                b0 = b0.addingProduct(w, y)
                w = SIMD8<Float>(repeating: q1[c])
                a1 = a1.addingProduct(w, x)
                b1 = b1.addingProduct(w, y)
                w = SIMD8<Float>(repeating: q2[c])
                a2 = a2.addingProduct(w, x)
                b2 = b2.addingProduct(w, y)
                w = SIMD8<Float>(repeating: q3[c])
                a3 = a3.addingProduct(w, x)
                b3 = b3.addingProduct(w, y)
                w = SIMD8<Float>(repeating: q4[c])
                a4 = a4.addingProduct(w, x)
                b4 = b4.addingProduct(w, y)
                w = SIMD8<Float>(repeating: q5[c])
                a5 = a5.addingProduct(w, x)
                b5 = b5.addingProduct(w, y)
                kc += nkp
            }
            let row = s + j
            store8(a0 * scale, row)
            store8(b0 * scale, row + 8)
            if rows > 1 { store8(a1 * scale, row + bk); store8(b1 * scale, row + bk + 8) }
            if rows > 2 { store8(a2 * scale, row + 2 * bk); store8(b2 * scale, row + 2 * bk + 8) }
            if rows > 3 { store8(a3 * scale, row + 3 * bk); store8(b3 * scale, row + 3 * bk + 8) }
            if rows > 4 { store8(a4 * scale, row + 4 * bk); store8(b4 * scale, row + 4 * bk + 8) }
            if rows > 5 { store8(a5 * scale, row + 5 * bk); store8(b5 * scale, row + 5 * bk + 8) }
            j += 16
        }
    }

    /// Adds bias and mask to score row i, turns it into e^(s − m_new) in place and updates the row's
    /// running maximum and sum, rescaling its output so far.
    @inline(__always)
    func foldScores(row i: Int, query: Int, head e: Int, firstKey k0: Int, validKeys valid: Int) {
        let bk = Attention.fusedKeyBlock
        let row = s + i * bk
        g.addBiasAndMask(row, query: query, head: e, mask: mask, firstKey: k0, count: valid)
        for j in valid..<bk { row[j] = -.infinity }
        var mv = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j < bk {
            let x = load8(row + j)
            mv.replace(with: x, where: x .> mv)
            j += 8
        }
        let old = m[i], new = Swift.max(old, VectorMath.horizontalMax(mv))
        guard new > -.infinity else {
            // Nothing but excluded keys so far: their weights are 0 and the state stays empty.
            row.update(repeating: 0, count: bk)
            return
        }
        let total = VectorMath.expInPlace(row, count: bk, minus: new)
        m[i] = new
        if old == -.infinity {
            l[i] = total
            return
        }
        let alpha = Foundation.exp(old - new)
        l[i] = l[i] * alpha + total
        if alpha != 1 {
            let a = SIMD8<Float>(repeating: alpha)
            let orow = o + i * g.headDim
            var c = 0
            while c < g.headDim {
                store8(load8(orow + c) * a, orow + c)
                c += 8
            }
        }
    }

    /// O[i ..< i + rows] += P[i ..< i + rows, 0 ..< keys] · V[k0 ..< k0 + keys], `rows` ≤ 4, in
    /// column chunks of 24 channels (then 8).
    @inline(__always)
    func accumulateValues(rows: Int, from i: Int, firstKey k0: Int, keys: Int) {
        let hd = g.headDim, bk = Attention.fusedKeyBlock
        let p0 = UnsafePointer(s + i * bk), p1 = rows > 1 ? p0 + bk : p0
        let p2 = rows > 2 ? p0 + 2 * bk : p0, p3 = rows > 3 ? p0 + 3 * bk : p0
        let o0 = o + i * hd
        let v0 = UnsafePointer(vp + k0 * hd)
        var c = 0
        while c + 24 <= hd {
            let out = o0 + c
            var a0 = load8(out), b0 = load8(out + 8), c0 = load8(out + 16)
            var a1 = rows > 1 ? load8(out + hd) : SIMD8(), b1 = rows > 1 ? load8(out + hd + 8) : SIMD8()
            var c1 = rows > 1 ? load8(out + hd + 16) : SIMD8()
            var a2 = rows > 2 ? load8(out + 2 * hd) : SIMD8(), b2 = rows > 2 ? load8(out + 2 * hd + 8) : SIMD8()
            var c2 = rows > 2 ? load8(out + 2 * hd + 16) : SIMD8()
            var a3 = rows > 3 ? load8(out + 3 * hd) : SIMD8(), b3 = rows > 3 ? load8(out + 3 * hd + 8) : SIMD8()
            var c3 = rows > 3 ? load8(out + 3 * hd + 16) : SIMD8()
            var vr = v0 + c
            for j in 0..<keys {
                let x = load8(vr), y = load8(vr + 8), z = load8(vr + 16)
                var w = SIMD8<Float>(repeating: p0[j])
                a0 = a0.addingProduct(w, x)
                b0 = b0.addingProduct(w, y)
                c0 = c0.addingProduct(w, z)
                w = SIMD8<Float>(repeating: p1[j])
                a1 = a1.addingProduct(w, x)
                b1 = b1.addingProduct(w, y)
                c1 = c1.addingProduct(w, z)
                w = SIMD8<Float>(repeating: p2[j])
                a2 = a2.addingProduct(w, x)
                b2 = b2.addingProduct(w, y)
                c2 = c2.addingProduct(w, z)
                w = SIMD8<Float>(repeating: p3[j])
                a3 = a3.addingProduct(w, x)
                b3 = b3.addingProduct(w, y)
                c3 = c3.addingProduct(w, z)
                vr += hd
            }
            store8(a0, out)
            store8(b0, out + 8)
            store8(c0, out + 16)
            if rows > 1 { store8(a1, out + hd); store8(b1, out + hd + 8); store8(c1, out + hd + 16) }
            if rows > 2 { store8(a2, out + 2 * hd); store8(b2, out + 2 * hd + 8); store8(c2, out + 2 * hd + 16) }
            if rows > 3 { store8(a3, out + 3 * hd); store8(b3, out + 3 * hd + 8); store8(c3, out + 3 * hd + 16) }
            c += 24
        }
        while c < hd {
            let out = o0 + c
            var a0 = load8(out), a1 = rows > 1 ? load8(out + hd) : SIMD8()
            var a2 = rows > 2 ? load8(out + 2 * hd) : SIMD8(), a3 = rows > 3 ? load8(out + 3 * hd) : SIMD8()
            var vr = v0 + c
            for j in 0..<keys {
                let x = load8(vr)
                a0 = a0.addingProduct(SIMD8(repeating: p0[j]), x)
                a1 = a1.addingProduct(SIMD8(repeating: p1[j]), x)
                a2 = a2.addingProduct(SIMD8(repeating: p2[j]), x)
                a3 = a3.addingProduct(SIMD8(repeating: p3[j]), x)
                vr += hd
            }
            store8(a0, out)
            if rows > 1 { store8(a1, out + hd) }
            if rows > 2 { store8(a2, out + 2 * hd) }
            if rows > 3 { store8(a3, out + 3 * hd) }
            c += 8
        }
    }

    /// Every output row = the mean of the packed pair's values.
    func meanOfValues(into out: UnsafeMutablePointer<Float>, rows: Int) {
        let hd = g.headDim
        let inv = SIMD8<Float>(repeating: 1 / Float(g.keys))
        var c = 0
        while c < hd {
            var acc = SIMD8<Float>()
            for j in 0..<g.keys { acc += load8(vp + j * hd + c) }
            for i in 0..<rows { store8(acc * inv, out + i * g.ots + c) }
            c += 8
        }
    }
}
