// GEMM through OpenBLAS cblas_sgemm (fp32 only).

import COpenBLAS

/// An fp32 weight kept as is (OpenBLAS reads it transposed in place).
final class FP32Weight: PreparedWeight, @unchecked Sendable {
    let tensor: Tensor  // (N, K)
    var outFeatures: Int { tensor.shape[0] }
    var inFeatures: Int { tensor.shape[1] }
    init(_ t: Tensor) {
        precondition(t.rank == 2, "a linear weight must be (N, K), got \(t.shape)")
        tensor = t
    }
}

public final class OpenBLASEngine: GEMMEngine, @unchecked Sendable {
    public let backend = Backend.openblas
    public let precision = Precision.fp32
    let lib: OpenBLASLibrary

    public init() throws {
        lib = try OpenBLASLibrary.shared.get()
    }

    public func prepare(weight: Tensor) -> PreparedWeight { FP32Weight(weight) }

    public func linear(
        _ x: UnsafePointer<Float>, rows m: Int, weight: PreparedWeight, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        guard let w = weight as? FP32Weight else { preconditionFailure("weight was prepared by another engine") }
        let n = w.outFeatures, k = w.inFeatures
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            addRowBroadcast(bias, n: n, rows: m, into: y, overwrite: !accumulate)
            beta = 1
        }
        withExtendedLifetime(w) {
            gemm(
                transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: x, lda: k, b: w.tensor.pointer, ldb: k,
                beta: beta, c: y, ldc: n)
        }
    }

    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        lib.sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

/// y[r, :] = bias (overwrite) or y[r, :] += bias, for r in 0..<rows.
@inline(__always)
func addRowBroadcast(
    _ bias: UnsafePointer<Float>, n: Int, rows: Int, into y: UnsafeMutablePointer<Float>, overwrite: Bool
) {
    Parallel.forRange(rows, grain: max(1, 16384 / max(n, 1))) { r in
        for i in r {
            let row = y + i * n
            if overwrite { row.update(from: bias, count: n) } else { for j in 0..<n { row[j] += bias[j] } }
        }
    }
}
