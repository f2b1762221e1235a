// A linear layer y = x·Wᵀ + b with its weight prepared once for the GEMM engine.

import TensorCore

struct Linear {
    let weight: PreparedWeight
    let bias: Tensor?
    var outFeatures: Int { weight.outFeatures }
    var inFeatures: Int { weight.inFeatures }

    /// Prepares W (N, K) and b (N) for `engine`.
    init(weight: Tensor, bias: Tensor?, engine: GEMMEngine) {
        precondition(weight.rank == 2, "linear weight must be (out, in), got \(weight.shape)")
        precondition(
            bias == nil || bias?.shape == [weight.shape[0]], "bias \(bias?.shape ?? []) does not match \(weight.shape)")
        self.weight = engine.prepare(weight: weight)
        self.bias = bias
    }

    /// y (M, N) = x (M, K) · Wᵀ + b.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, engine: GEMMEngine) {
        if let bias {
            withExtendedLifetime(bias) {
                engine.linear(x, rows: rows, weight: weight, bias: bias.pointer, into: y)
            }
        } else {
            engine.linear(x, rows: rows, weight: weight, bias: nil, into: y)
        }
    }

    /// Tensor form: x (..., K) -> (..., N).
    func callAsFunction(_ x: Tensor, engine: GEMMEngine) -> Tensor {
        precondition(x.shape.last == inFeatures, "linear expects last dim \(inFeatures), got \(x.shape)")
        let rows = x.count / inFeatures
        var y = Tensor(zeros: Array(x.shape.dropLast()) + [outFeatures])
        let yp = y.mutablePointer()
        withExtendedLifetime(x) { apply(x.pointer, rows: rows, into: yp, engine: engine) }
        return y
    }
}
