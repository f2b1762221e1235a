// Multi-head scaled dot-product attention, stride-based so one kernel serves packed qkv (Latte:
// (R, N, 3D) = [q|k|v], head-major), separate q/k/v (T5; cross-attention with Nq ≠ Nk) and the
// single-head VAE mid-block attention. Work is split into (row, head, query block) tiles; each
// tile runs S = scale·Q·Kᵀ (+ bias, key mask), softmax, O = P·V through the GEMM engine, with
// bounded per-thread scratch for S.

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

/// Attention kernels.
public enum Attention {
    /// Scratch floats per tile when tiles run in parallel (S block of ≤ 256 KiB).
    static let smallScratch = 1 << 16
    /// Scratch floats per tile when one tile at a time uses the whole machine (≤ 16 MiB).
    static let largeScratch = 1 << 22

    // MARK: Tensor level

    /// Self-attention on packed qkv (R, N, 3D) = [q | k | v] → (R, N, D), D = heads·hd.
    public static func selfAttention(qkv: Tensor, heads: Int, scale: Float, engine: GEMMEngine) -> Tensor {
        precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "selfAttention: qkv \(qkv.shape) must be (R, N, 3·heads·hd)")
        let r = qkv.shape[0], n = qkv.shape[1], d = qkv.shape[2] / 3
        var out = Tensor(zeros: [r, n, d])
        let op = out.mutablePointer()
        withExtendedLifetime(qkv) {
            let p = qkv.pointer
            forward(q: AttentionOperand(p, tokenStride: 3 * d, rowStride: 3 * d * n),
                    k: AttentionOperand(p + d, tokenStride: 3 * d, rowStride: 3 * d * n),
                    v: AttentionOperand(p + 2 * d, tokenStride: 3 * d, rowStride: 3 * d * n),
                    rows: r, queries: n, keys: n, heads: heads, headDim: d / heads, scale: scale,
                    into: op, engine: engine)
        }
        return out
    }

    /// Attention with q (R, Nq, D) and k, v (R, Nk, D) or (1, Nk, D) shared by all rows → (R, Nq, D).
    /// keyMask (R, Nk): 0 excludes a key; bias (heads, Nq, Nk) is added to the scaled scores.
    public static func attention(
        q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float, keyMask: Tensor? = nil, bias: Tensor? = nil,
        engine: GEMMEngine
    ) -> Tensor {
        precondition(q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[2] == k.shape[2]
                     && (k.shape[0] == q.shape[0] || k.shape[0] == 1) && q.shape[2] % heads == 0,
                     "attention: q \(q.shape), k \(k.shape), v \(v.shape) do not fit (R, Nq, D) / (R|1, Nk, D)")
        let r = q.shape[0], nq = q.shape[1], nk = k.shape[1], d = q.shape[2]
        precondition(keyMask.map { $0.count == r * nk } ?? true, "attention: keyMask \(keyMask?.shape ?? []) must be (\(r), \(nk))")
        precondition(bias.map { $0.count == heads * nq * nk } ?? true, "attention: bias \(bias?.shape ?? []) must be (\(heads), \(nq), \(nk))")
        let kvStride = k.shape[0] == 1 ? 0 : nk * d
        var out = Tensor(zeros: [r, nq, d])
        let op = out.mutablePointer()
        withExtendedLifetime((q, k, v, keyMask, bias)) {
            forward(q: AttentionOperand(q.pointer, tokenStride: d, rowStride: nq * d),
                    k: AttentionOperand(k.pointer, tokenStride: d, rowStride: kvStride),
                    v: AttentionOperand(v.pointer, tokenStride: d, rowStride: kvStride),
                    rows: r, queries: nq, keys: nk, heads: heads, headDim: d / heads, scale: scale,
                    keyMask: keyMask?.pointer, bias: bias?.pointer, into: op, engine: engine)
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
        into output: UnsafeMutablePointer<Float>, outputTokenStride: Int? = nil, engine: GEMMEngine
    ) {
        precondition(rows >= 0 && queries >= 0 && keys > 0 && heads > 0 && headDim > 0, "attention: bad sizes")
        let ots = outputTokenStride ?? heads * headDim
        let pairs = rows * heads
        guard pairs > 0, queries > 0 else { return }
        let threads = Parallel.threadCount
        // Many small tiles: run tiles concurrently, each GEMM single-threaded in its caller.
        // Few large tiles: one at a time, letting the engine and the softmax use all cores.
        let concurrentTiles = pairs >= 2 * threads || queries * keys * headDim < (1 << 20)
        let scratch = concurrentTiles ? smallScratch : largeScratch
        let block = max(1, min(queries, scratch / keys))
        let blocks = (queries + block - 1) / block
        let geometry = Geometry(q: q, k: k, v: v, queries: queries, keys: keys, heads: heads, headDim: headDim,
                                scale: scale, keyMask: keyMask, bias: bias, output: output, ots: ots, block: block)
        if concurrentTiles {
            Parallel.forRange(pairs * blocks) { range in
                let s = UnsafeMutablePointer<Float>.allocate(capacity: block * keys)
                defer { s.deallocate() }
                for tile in range {
                    geometry.run(pair: tile / blocks, block: tile % blocks, scores: s, engine: engine, parallel: false)
                }
            }
        } else {
            let s = UnsafeMutablePointer<Float>.allocate(capacity: block * keys)
            defer { s.deallocate() }
            for tile in 0..<(pairs * blocks) {
                geometry.run(pair: tile / blocks, block: tile % blocks, scores: s, engine: engine, parallel: true)
            }
        }
    }

    /// Everything one tile needs; `run` processes (row·heads + head, query block).
    struct Geometry {
        let q: AttentionOperand, k: AttentionOperand, v: AttentionOperand
        let queries: Int, keys: Int, heads: Int, headDim: Int, scale: Float
        let keyMask: UnsafePointer<Float>?, bias: UnsafePointer<Float>?
        let output: UnsafeMutablePointer<Float>, ots: Int, block: Int

        func run(pair: Int, block index: Int, scores s: UnsafeMutablePointer<Float>, engine: GEMMEngine, parallel: Bool) {
            let r = pair / heads, e = pair % heads
            let q0 = index * block, nb = min(block, queries - q0)
            let qp = q.pointer + r * q.rowStride + q0 * q.tokenStride + e * headDim
            let kp = k.pointer + r * k.rowStride + e * headDim
            let vp = v.pointer + r * v.rowStride + e * headDim
            engine.gemm(transA: false, transB: true, m: nb, n: keys, k: headDim, alpha: scale,
                        a: qp, lda: q.tokenStride, b: kp, ldb: k.tokenStride, beta: 0, c: s, ldc: keys)
            let mask = keyMask.map { $0 + r * keys }
            let allMasked = mask.map { m in (0..<keys).allSatisfy { m[$0] == 0 } } ?? false
            let biasBlock = bias.map { $0 + (e * queries + q0) * keys }
            let rowsBody = { (range: Range<Int>) in
                for i in range {
                    let row = s + i * keys
                    if allMasked {
                        row.update(repeating: 0, count: keys)
                    } else {
                        if let b = biasBlock { Elementwise.addRun(UnsafePointer(row), 1, b + i * keys, 1, row, keys) }
                        if let m = mask { for j in 0..<keys where m[j] == 0 { row[j] = -.infinity } }
                    }
                    Softmax.row(row, keys)
                }
            }
            if parallel {
                Parallel.forRange(nb, grain: max(1, 8192 / keys), rowsBody)
            } else {
                rowsBody(0..<nb)
            }
            engine.gemm(transA: false, transB: false, m: nb, n: headDim, k: keys, alpha: 1,
                        a: s, lda: keys, b: vp, ldb: v.tokenStride, beta: 0,
                        c: output + (r * queries + q0) * ots + e * headDim, ldc: ots)
        }
    }
}
