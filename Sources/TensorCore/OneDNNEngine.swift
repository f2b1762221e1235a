// GEMM through oneDNN matmul primitives: fp32, or bf16 weights and activations with fp32
// accumulation (weights converted once in `prepare`, activations converted per call into reused
// scratch buffers). Primitives are created once per shape and kept in a thread-safe cache.

import CDNNL
import Foundation

/// A weight prepared for oneDNN: kept as fp32 (N, K), or converted once to bf16 (N, K).
final class OneDNNWeight: PreparedWeight, @unchecked Sendable {
    let outFeatures: Int
    let inFeatures: Int
    let precision: Precision
    /// fp32 weights (N, K); kept for the fp32 engine.
    let fp32: Tensor?
    /// bf16 bit patterns (N, K), row-major; owned.
    let bf16: UnsafeMutablePointer<UInt16>?

    init(fp32 t: Tensor) {
        outFeatures = t.shape[0]
        inFeatures = t.shape[1]
        precision = .fp32
        fp32 = t
        bf16 = nil
    }

    init(bf16From t: Tensor) {
        outFeatures = t.shape[0]
        inFeatures = t.shape[1]
        precision = .bf16
        fp32 = nil
        let p = ScratchMemory.allocate(bytes: 2 * t.count).bindMemory(to: UInt16.self, capacity: max(1, t.count))
        BFloat16.encode(t.pointer, count: t.count, into: p)
        bf16 = p
    }

    deinit { bf16.map { ScratchMemory.release(UnsafeMutableRawPointer($0)) } }
}

/// oneDNN matmul engine. `precision` applies to `linear`; `gemm` is always fp32.
public final class OneDNNEngine: GEMMEngine, @unchecked Sendable {
    public let backend = Backend.onednn
    public let precision: Precision
    /// OpenMP threads per product.
    public let threads: Int
    let runtime: DNNLRuntime

    /// What distinguishes one cached primitive from another.
    private struct Key: Hashable {
        var linear: Bool
        var m: Int, n: Int, k: Int
        var transA: Bool, transB: Bool
        var lda: Int, ldb: Int, ldc: Int
        var bf16: Bool
        var bias: Bool
        var alpha: UInt32, beta: UInt32
        var accumulate: Bool
    }

    private let lock = NSLock()
    private var primitives: [Key: DNNLPrimitive] = [:]
    private let scratch = ScratchPool()

    /// Loads oneDNN's CPU engine; `threads` = OpenMP threads per product (default `Parallel.threadCount`).
    /// Throws when oneDNN cannot be initialised.
    public init(precision: Precision = .fp32, threads: Int? = nil) throws(OneDNNError) {
        runtime = try DNNLRuntime.shared.get()
        self.precision = precision
        self.threads = max(1, threads ?? Parallel.threadCount)
        // Create one tiny primitive now so that a broken installation fails here, not mid-render.
        _ = try primitive(
            Key(
                linear: true, m: 1, n: 1, k: 1, transA: false, transB: true, lda: 1, ldb: 1, ldc: 1,
                bf16: precision == .bf16, bias: false, alpha: Float(1).bitPattern, beta: 0, accumulate: false))
    }

    /// "oneDNN 2.6.3".
    public var libraryVersion: String { runtime.versionString }
    /// The instruction set oneDNN dispatches to, e.g. "avx512_core_bf16".
    public var isa: String { DNNLRuntime.effectiveISA }
    /// Whether oneDNN computes bf16 dot products natively here (AVX512-BF16 or AMX, and not limited
    /// by ONEDNN_MAX_CPU_ISA); otherwise it emulates them, slower than fp32.
    public var hasNativeBF16: Bool { ["avx512_core_bf16", "avx512_core_amx"].contains(isa) }

    /// Number of primitives created so far (one per distinct shape and setting).
    public var cachedPrimitiveCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return primitives.count
    }

    /// The oneDNN implementation used by `linear` for m rows of `weight`, e.g. "brg:avx512_core_bf16".
    public func implementation(rows m: Int, weight: PreparedWeight, bias: Bool) -> String {
        let key = linearKey(m: m, n: weight.outFeatures, k: weight.inFeatures, bias: bias, accumulate: false)
        return (try? primitive(key).implementation) ?? "unavailable"
    }

    public func prepare(weight: Tensor) -> PreparedWeight {
        precondition(weight.rank == 2, "a linear weight must be (N, K), got \(weight.shape)")
        return precision == .bf16 ? OneDNNWeight(bf16From: weight) : OneDNNWeight(fp32: weight)
    }

    private func linearKey(m: Int, n: Int, k: Int, bias: Bool, accumulate: Bool) -> Key {
        Key(
            linear: true, m: m, n: n, k: k, transA: false, transB: true, lda: k, ldb: k, ldc: n,
            bf16: precision == .bf16, bias: bias, alpha: Float(1).bitPattern, beta: 0, accumulate: accumulate)
    }

    public func linear(
        _ x: UnsafePointer<Float>, rows m: Int, weight: PreparedWeight, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        guard let w = weight as? OneDNNWeight, w.precision == precision else {
            preconditionFailure("weight was prepared by another engine or precision")
        }
        let n = w.outFeatures, k = w.inFeatures
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if let bias {
                addRowBroadcast(bias, n: n, rows: m, into: y, overwrite: !accumulate)
            } else if !accumulate {
                y.update(repeating: 0, count: m * n)
            }
            return
        }
        let key = linearKey(m: m, n: n, k: k, bias: bias != nil, accumulate: accumulate)
        do {
            let p = try primitive(key)
            if let fp32 = w.fp32 {
                try withExtendedLifetime(fp32) { () throws(OneDNNError) in
                    try p.execute(
                        UnsafeRawPointer(x), UnsafeRawPointer(fp32.pointer), UnsafeRawPointer(y),
                        bias.map(UnsafeRawPointer.init))
                }
            } else if let wb = w.bf16 {
                let buffer = scratch.take(bytes: m * k * 2)
                defer { scratch.give(buffer) }
                let xb = buffer.pointer.assumingMemoryBound(to: UInt16.self)
                BFloat16.encode(x, count: m * k, into: xb)
                try withExtendedLifetime(w) { () throws(OneDNNError) in
                    try p.execute(
                        UnsafeRawPointer(xb), UnsafeRawPointer(wb), UnsafeRawPointer(y), bias.map(UnsafeRawPointer.init)
                    )
                }
            }
        } catch {
            fatalError("\(error)")
        }
    }

    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        precondition(lda >= (transA ? m : k) && ldb >= (transB ? k : n) && ldc >= n, "leading dimension too small")
        guard k > 0, alpha != 0 else {
            scaleRows(c, rows: m, cols: n, ld: ldc, by: beta)
            return
        }
        let key = Key(
            linear: false, m: m, n: n, k: k, transA: transA, transB: transB, lda: lda, ldb: ldb, ldc: ldc,
            bf16: false, bias: false, alpha: alpha.bitPattern, beta: beta.bitPattern, accumulate: beta != 0)
        do {
            try primitive(key).execute(UnsafeRawPointer(a), UnsafeRawPointer(b), UnsafeRawPointer(c))
        } catch {
            fatalError("\(error)")
        }
    }

    /// The cached primitive for `key`, created on first use.
    private func primitive(_ key: Key) throws(OneDNNError) -> DNNLPrimitive {
        lock.lock()
        defer { lock.unlock() }
        if let p = primitives[key] { return p }
        let p = try makePrimitive(key)
        primitives[key] = p
        return p
    }

    private func makePrimitive(_ key: Key) throws(OneDNNError) -> DNNLPrimitive {
        let (m, n, k) = (key.m, key.n, key.k)
        let context = "\(key.linear ? "linear" : "gemm") \(m)x\(n)x\(k)\(key.bf16 ? " bf16" : "")"
        let inType: DNNLType = key.bf16 ? .bf16 : .f32
        // op(A) (M, K): stored (M, K) with row stride lda, or (K, M) with row stride lda.
        let src = try dnnlMatrixDesc(
            rows: m, cols: k, rowStride: key.transA ? 1 : key.lda,
            colStride: key.transA ? key.lda : 1, type: inType)
        // op(B) (K, N): stored (K, N) with row stride ldb, or (N, K) with row stride ldb.
        let weights = try dnnlMatrixDesc(
            rows: k, cols: n, rowStride: key.transB ? 1 : key.ldb,
            colStride: key.transB ? key.ldb : 1, type: inType)
        let dst = try dnnlMatrixDesc(rows: m, cols: n, rowStride: key.ldc, colStride: 1, type: .f32)
        let bias = key.bias ? try dnnlMatrixDesc(rows: 1, cols: n, rowStride: n, colStride: 1, type: .f32) : nil
        var attributes = DNNLAttributes()
        attributes.outputScale = Float(bitPattern: key.alpha)
        if key.accumulate { attributes.sumScale = key.linear ? 1 : Float(bitPattern: key.beta) }
        return try DNNLPrimitive.matmul(
            runtime: runtime, threads: threads, src: src, weights: weights, bias: bias, dst: dst,
            attributes: attributes, context: context)
    }
}

/// c[r, 0..<cols] *= s for r in 0..<rows (s == 0 writes zeros, ignoring NaN in c).
func scaleRows(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, by s: Float) {
    for r in 0..<rows {
        let row = c + r * ld
        if s == 0 { row.update(repeating: 0, count: cols) } else if s != 1 { for j in 0..<cols { row[j] *= s } }
    }
}

/// Reusable, thread-safe scratch buffers from `ScratchMemory`, so hot loops do not allocate.
final class ScratchPool: @unchecked Sendable {
    final class Buffer {
        let pointer: UnsafeMutableRawPointer
        let bytes: Int
        init(bytes: Int) {
            self.bytes = bytes
            pointer = ScratchMemory.allocate(bytes: bytes)
        }
        deinit { ScratchMemory.release(pointer) }
    }

    private let lock = NSLock()
    private var free: [Buffer] = []
    /// Buffers kept for reuse beyond this count are released.
    private let keep = 8

    /// A buffer of at least `bytes` bytes; hand it back with `give`.
    func take(bytes: Int) -> Buffer {
        lock.lock()
        defer { lock.unlock() }
        var best: Int?
        for i in free.indices where free[i].bytes >= bytes && (best.map { free[i].bytes < free[$0].bytes } ?? true) {
            best = i
        }
        if let best {
            let buffer = free.remove(at: best)
            ScratchMemory.reuse(buffer.pointer, bytes: buffer.bytes)
            return buffer
        }
        return Buffer(bytes: bytes)
    }

    func give(_ b: Buffer) {
        lock.lock()
        defer { lock.unlock() }
        free.append(b)
        if free.count > keep, let i = free.indices.min(by: { free[$0].bytes < free[$1].bytes }) { free.remove(at: i) }
    }
}
