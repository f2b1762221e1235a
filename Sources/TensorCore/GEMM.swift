// The GEMM abstraction every model layer goes through. Two backends implement it (OpenBLAS
// cblas_sgemm; oneDNN matmul in fp32 or bf16), chosen at run time by `ComputeOptions`.

/// Which GEMM library runs the matrix products.
public enum Backend: String, Sendable, CaseIterable, Codable {
    case auto, onednn, openblas
}

/// Arithmetic of the weight GEMMs. bf16 = bf16 weights and activations, fp32 accumulation.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16
}

/// A weight matrix W (N, K) for `y = x · Wᵀ + b`, prepared once for one engine (e.g. converted to
/// bf16 and reordered). Holds whatever the engine needs; create it with `GEMMEngine.prepare`.
public protocol PreparedWeight: AnyObject, Sendable {
    /// Output features N.
    var outFeatures: Int { get }
    /// Input features K.
    var inFeatures: Int { get }
}

/// Matrix products, row-major throughout.
public protocol GEMMEngine: AnyObject, Sendable {
    var backend: Backend { get }
    var precision: Precision { get }

    /// Converts a (N, K) weight once, at load time.
    func prepare(weight: Tensor) -> PreparedWeight

    /// y (M, N) = x (M, K) · Wᵀ + bias (N), or y += … when `accumulate` is true.
    func linear(
        _ x: UnsafePointer<Float>, rows m: Int, weight: PreparedWeight, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool)

    /// General fp32 product C = alpha · op(A) · op(B) + beta · C, with op(X) = X or Xᵀ.
    /// A is (M, K) after op, B is (K, N) after op; lda/ldb/ldc are row strides. Used for attention
    /// and convolutions where neither side is a stored weight.
    func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)
}

extension GEMMEngine {
    public func linear(
        _ x: UnsafePointer<Float>, rows m: Int, weight: PreparedWeight, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>
    ) {
        linear(x, rows: m, weight: weight, bias: bias, into: y, accumulate: false)
    }
}
