// Multi-head scaled dot-product attention, stride-based so one kernel serves packed qkv (Latte:
// (R, N, 3D) = [q|k|v], head-major), separate q/k/v (T5; cross-attention with Nq ≠ Nk) and the
// single-head VAE mid-block attention. Work is split into (row, head[, query block]) tiles; each
// tile runs S = scale·Q·Kᵀ (+ bias, key mask), softmax, O = P·V. Tiles with few keys (temporal
// attention, N = 16) run concurrently on a SIMD kernel. Larger tiles run on the fused kernel
// (FusedAttention.swift: key blocks, online softmax, all cores) where the head dim allows, else one
// after another through the GEMM engine (which parallelises inside and must not be called
// concurrently: OpenBLAS 0.3.21 crashed and slowed down when called from several threads), with S
// bounded to 16 MiB.

/// One attention input: the element (row r, token t, channel c) is at
/// `pointer[r·rowStride + t·tokenStride + c]`; head e uses channels e·hd ..< (e+1)·hd.
/// rowStride 0 shares one matrix between all rows.
public struct AttentionOperand {
    public var pointer: UnsafePointer<Float>
    public var tokenStride: Int
    public var rowStride: Int

    public init(_ pointer: UnsafePointer<Float>, tokenStride: Int, rowStride: Int) {
        self.pointer = pointer
        self.tokenStride = tokenStride
        self.rowStride = rowStride
    }
}

/// Which kernel runs attention tiles with more than `Attention.smallKeyLimit` keys.
public enum AttentionKernel: String, Sendable, CaseIterable {
    /// The fused kernel where the head dim allows (whole SIMD8 vectors, at most 256), else `gemm`.
    case fused
    /// Two engine GEMMs per tile with the score block in memory.
    case gemm
}

/// Attention kernels.
public enum Attention {
    /// Up to this many keys, tiles run concurrently on the built-in SIMD kernel instead of GEMMs.
    public static let smallKeyLimit = 64
    /// Bound on the score block S of the GEMM path, in floats (16 MiB).
    static let gemmScratch = 1 << 22

    // MARK: Tensor level

    /// Self-attention on packed qkv (R, N, 3D) = [q | k | v] → (R, N, D), D = heads·hd.
    public static func selfAttention(
        qkv: Tensor, heads: Int, scale: Float, engine: GEMMEngine, kernel: AttentionKernel = .fused
    ) -> Tensor {
        precondition(
            qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0,
            "selfAttention: qkv \(qkv.shape) must be (R, N, 3·heads·hd)")
        let r = qkv.shape[0], n = qkv.shape[1], d = qkv.shape[2] / 3
        var out = Tensor(zeros: [r, n, d])
        let op = out.mutablePointer()
        withExtendedLifetime(qkv) {
            let p = qkv.pointer
            forward(
                q: AttentionOperand(p, tokenStride: 3 * d, rowStride: 3 * d * n),
                k: AttentionOperand(p + d, tokenStride: 3 * d, rowStride: 3 * d * n),
                v: AttentionOperand(p + 2 * d, tokenStride: 3 * d, rowStride: 3 * d * n),
                rows: r, queries: n, keys: n, heads: heads, headDim: d / heads, scale: scale,
                into: op, engine: engine, kernel: kernel)
        }
        return out
    }

    /// Attention with q (R, Nq, D) and k, v (R, Nk, D) or (1, Nk, D) shared by all rows → (R, Nq, D).
    /// keyMask (R, Nk): 0 excludes a key; bias (heads, Nq, Nk) is added to the scaled scores.
    public static func attention(
        q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float, keyMask: Tensor? = nil, bias: Tensor? = nil,
        engine: GEMMEngine, kernel: AttentionKernel = .fused
    ) -> Tensor {
        precondition(
            q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[2] == k.shape[2]
                && (k.shape[0] == q.shape[0] || k.shape[0] == 1) && q.shape[2] % heads == 0,
            "attention: q \(q.shape), k \(k.shape), v \(v.shape) do not fit (R, Nq, D) / (R|1, Nk, D)")
        let r = q.shape[0], nq = q.shape[1], nk = k.shape[1], d = q.shape[2]
        precondition(
            keyMask.map { $0.count == r * nk } ?? true,
            "attention: keyMask \(keyMask?.shape ?? []) must be (\(r), \(nk))")
        precondition(
            bias.map { $0.count == heads * nq * nk } ?? true,
            "attention: bias \(bias?.shape ?? []) must be (\(heads), \(nq), \(nk))")
        let kvStride = k.shape[0] == 1 ? 0 : nk * d
        var out = Tensor(zeros: [r, nq, d])
        let op = out.mutablePointer()
        withExtendedLifetime((q, k, v, keyMask, bias)) {
            forward(
                q: AttentionOperand(q.pointer, tokenStride: d, rowStride: nq * d),
                k: AttentionOperand(k.pointer, tokenStride: d, rowStride: kvStride),
                v: AttentionOperand(v.pointer, tokenStride: d, rowStride: kvStride),
                rows: r, queries: nq, keys: nk, heads: heads, headDim: d / heads, scale: scale,
                keyMask: keyMask?.pointer, bias: bias?.pointer, into: op, engine: engine, kernel: kernel)
        }
        return out
    }

    // MARK: Pointer level

    /// out[r, i, e·hd + c] = Σ_j softmax_j(scale·q_ri·k_rj + bias[e, i, j])·v[r, j, e·hd + c] for head e.
    /// keyMask (rows, keys), 0 = excluded; if every key of a row is excluded the row attends
    /// uniformly to all keys (what an additive finfo.min mask gives). Output row r, token i starts at
    /// `output + (r·queries + i)·outputTokenStride` (default heads·headDim).
    public static func forward(
        q: AttentionOperand, k: AttentionOperand, v: AttentionOperand,
        rows: Int, queries: Int, keys: Int, heads: Int, headDim: Int, scale: Float,
        keyMask: UnsafePointer<Float>? = nil, bias: UnsafePointer<Float>? = nil,
        into output: UnsafeMutablePointer<Float>, outputTokenStride: Int? = nil, engine: GEMMEngine,
        kernel: AttentionKernel = .fused
    ) {
        precondition(rows >= 0 && queries >= 0 && keys > 0 && heads > 0 && headDim > 0, "attention: bad sizes")
        let ots = outputTokenStride ?? heads * headDim
        let pairs = rows * heads
        guard pairs > 0, queries > 0 else { return }
        let geometry = Geometry(
            q: q, k: k, v: v, queries: queries, keys: keys, heads: heads, headDim: headDim,
            scale: scale, keyMask: keyMask, bias: bias, output: output, ots: ots,
            block: max(1, min(queries, gemmScratch / keys)))
        if keys <= smallKeyLimit {
            // Few keys (temporal attention): SIMD tiles, all cores, no library calls.
            let padded = (keys + 15) & ~15
            Parallel.forRange(pairs, grain: max(1, 4096 / max(queries * padded, 1))) { range in
                // Kᵀ with zero padding columns (written explicitly: the SIMD rows read them), then
                // four score rows.
                let kt = ScratchMemory.allocateFloats((headDim + 4) * padded)
                defer { ScratchMemory.release(kt) }
                kt.update(repeating: 0, count: headDim * padded)
                for pair in range { geometry.runSmall(pair: pair, transposedKeys: kt, scores: kt + headDim * padded) }
            }
        } else if kernel == .fused, fusable(headDim: headDim) {
            geometry.runFused(rows: rows)
        } else {
            // Larger tiles: one at a time (the GEMM engine is not called concurrently), the engine
            // and the softmax use all cores.
            let s = ScratchMemory.allocateFloats(geometry.block * keys)
            defer { ScratchMemory.release(s) }
            let blocks = (queries + geometry.block - 1) / geometry.block
            for tile in 0..<(pairs * blocks) {
                geometry.run(pair: tile / blocks, block: tile % blocks, scores: s, engine: engine)
            }
        }
    }

    /// Everything one tile needs; `run` processes (row·heads + head, query block).
    struct Geometry {
        let q: AttentionOperand, k: AttentionOperand, v: AttentionOperand
        let queries: Int, keys: Int, heads: Int, headDim: Int, scale: Float
        let keyMask: UnsafePointer<Float>?, bias: UnsafePointer<Float>?
        let output: UnsafeMutablePointer<Float>, ots: Int, block: Int

        func run(pair: Int, block index: Int, scores s: UnsafeMutablePointer<Float>, engine: GEMMEngine) {
            let r = pair / heads, e = pair % heads
            let q0 = index * block, nb = min(block, queries - q0)
            let qp = q.pointer + r * q.rowStride + q0 * q.tokenStride + e * headDim
            let kp = k.pointer + r * k.rowStride + e * headDim
            let vp = v.pointer + r * v.rowStride + e * headDim
            engine.gemm(
                transA: false, transB: true, m: nb, n: keys, k: headDim, alpha: scale,
                a: qp, lda: q.tokenStride, b: kp, ldb: k.tokenStride, beta: 0, c: s, ldc: keys)
            let (mask, allMasked) = keyMask(row: r)
            Parallel.forRange(nb, grain: max(1, 8192 / keys)) { range in
                for i in range { finishScores(s + i * keys, query: q0 + i, head: e, mask: mask, allMasked: allMasked) }
            }
            engine.gemm(
                transA: false, transB: false, m: nb, n: headDim, k: keys, alpha: 1,
                a: s, lda: keys, b: vp, ldb: v.tokenStride, beta: 0,
                c: output + (r * queries + q0) * ots + e * headDim, ldc: ots)
        }

        /// Row r's key mask (nil: none) and whether it excludes every key.
        func keyMask(row r: Int) -> (mask: UnsafePointer<Float>?, allMasked: Bool) {
            let mask = keyMask.map { $0 + r * keys }
            return (mask, mask.map { m in (0..<keys).allSatisfy { m[$0] == 0 } } ?? false)
        }

        /// kt[c·columns + j] = k[row r, key j, head e, channel c] for every key j.
        func transposeKeys(row r: Int, head e: Int, into kt: UnsafeMutablePointer<Float>, columns: Int) {
            let kp = k.pointer + r * k.rowStride + e * headDim
            for j in 0..<keys {
                let src = kp + j * k.tokenStride
                for c in 0..<headDim { kt[c * columns + j] = src[c] }
            }
        }

        /// Scores of query i, head e for keys k0 ..< k0 + count: adds their bias and sets the keys the
        /// mask excludes to −∞.
        @inline(__always)
        func addBiasAndMask(
            _ row: UnsafeMutablePointer<Float>, query i: Int, head e: Int, mask: UnsafePointer<Float>?,
            firstKey k0: Int = 0, count: Int
        ) {
            if let b = bias {
                Elementwise.addRun(UnsafePointer(row), 1, b + (e * queries + i) * keys + k0, 1, row, count)
            }
            if let m = mask { for j in 0..<count where m[k0 + j] == 0 { row[j] = -.infinity } }
        }

        /// Adds the bias row, applies the key mask and takes the softmax of one score row.
        @inline(__always)
        func finishScores(
            _ row: UnsafeMutablePointer<Float>, query i: Int, head e: Int, mask: UnsafePointer<Float>?, allMasked: Bool
        ) {
            if allMasked {
                row.update(repeating: 0, count: keys)
            } else {
                addBiasAndMask(row, query: i, head: e, mask: mask, count: keys)
            }
            Softmax.row(row, keys)
        }

        /// The whole (row, head) tile without GEMM calls: Kᵀ is copied to `kt` (headDim × padded,
        /// padding columns zero) so each score row is a sum of broadcast-multiplied SIMD rows.
        func runSmall(pair: Int, transposedKeys kt: UnsafeMutablePointer<Float>, scores s: UnsafeMutablePointer<Float>)
        {
            let r = pair / heads, e = pair % heads
            let padded = (keys + 15) & ~15
            let vp = v.pointer + r * v.rowStride + e * headDim
            transposeKeys(row: r, head: e, into: kt, columns: padded)
            let (mask, allMasked) = keyMask(row: r)
            var i0 = 0
            while i0 < queries {
                // Scores for up to 4 queries at once (independent accumulators hide FMA latency).
                let nq = min(4, queries - i0)
                let q0 = q.pointer + r * q.rowStride + i0 * q.tokenStride + e * headDim
                let q1 = nq > 1 ? q0 + q.tokenStride : q0, q2 = nq > 2 ? q0 + 2 * q.tokenStride : q0
                let q3 = nq > 3 ? q0 + 3 * q.tokenStride : q0
                var jb = 0
                while jb < padded {
                    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                    for c in 0..<headDim {
                        let kv = load16(kt + c * padded + jb)
                        a0 += q0[c] * kv
                        a1 += q1[c] * kv
                        a2 += q2[c] * kv
                        a3 += q3[c] * kv
                    }
                    store16(a0 * scale, s + jb)
                    store16(a1 * scale, s + padded + jb)
                    store16(a2 * scale, s + 2 * padded + jb)
                    store16(a3 * scale, s + 3 * padded + jb)
                    jb += 16
                }
                for t in 0..<nq {
                    let row = s + t * padded
                    finishScores(row, query: i0 + t, head: e, mask: mask, allMasked: allMasked)
                    weightedValues(row, vp, output + (r * queries + i0 + t) * ots + e * headDim)
                }
                i0 += nq
            }
        }

        /// o (headDim) = Σ_j p[j]·v_j, 64 channels at a time in four accumulators.
        @inline(__always)
        func weightedValues(_ p: UnsafePointer<Float>, _ vp: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>) {
            let vs = v.tokenStride
            var c = 0
            while c + 64 <= headDim {
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                for j in 0..<keys {
                    let w = p[j], row = vp + j * vs + c
                    a0 += w * load16(row)
                    a1 += w * load16(row + 16)
                    a2 += w * load16(row + 32)
                    a3 += w * load16(row + 48)
                }
                store16(a0, o + c)
                store16(a1, o + c + 16)
                store16(a2, o + c + 32)
                store16(a3, o + c + 48)
                c += 64
            }
            while c + 16 <= headDim {
                var a = SIMD16<Float>()
                for j in 0..<keys { a += p[j] * load16(vp + j * vs + c) }
                store16(a, o + c)
                c += 16
            }
            while c + 8 <= headDim {
                var a = SIMD8<Float>()
                for j in 0..<keys { a += p[j] * load8(vp + j * vs + c) }
                store8(a, o + c)
                c += 8
            }
            while c < headDim {
                var a: Float = 0
                for j in 0..<keys { a += p[j] * vp[j * vs + c] }
                o[c] = a
                c += 1
            }
        }
    }
}
