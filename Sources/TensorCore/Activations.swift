// Pointwise activations: GELU (tanh approximation and erf-exact), SiLU, sigmoid, and T5's gated
// GELU gelu_tanh(a) ⊙ b. Vectorised 8 floats at a time with VectorMath.

/// Activation kernels. Pointer variants may run in place (x == y).
public enum Activation {
    // MARK: Tensor level

    /// GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    public static func geluTanh(_ x: Tensor) -> Tensor { mapTensor(x) { geluTanh($0, count: $1, into: $2) } }
    /// GELU, exact: 0.5·x·(1 + erf(x/√2)).
    public static func geluErf(_ x: Tensor) -> Tensor { mapTensor(x) { geluErf($0, count: $1, into: $2) } }
    /// SiLU: x·sigmoid(x).
    public static func silu(_ x: Tensor) -> Tensor { mapTensor(x) { silu($0, count: $1, into: $2) } }
    /// Logistic sigmoid 1/(1 + e^−x).
    public static func sigmoid(_ x: Tensor) -> Tensor { mapTensor(x) { sigmoid($0, count: $1, into: $2) } }

    /// T5 gated GELU: geluTanh(a) ⊙ b, same shapes.
    public static func gatedGELU(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "gatedGELU: shapes \(a.shape) and \(b.shape) differ")
        var y = Tensor(zeros: a.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime((a, b)) { gatedGELU(a.pointer, b.pointer, count: a.count, into: yp) }
        return y
    }

    // MARK: Pointer level

    /// y = geluTanh(x), computed as x·sigmoid(2·√(2/π)·(x + 0.044715·x³)) (no cancellation).
    public static func geluTanh(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        map(x, count, y, GELUTanhOp.self)
    }

    /// y = geluErf(x), computed as x·erfc(−x/√2)/2.
    public static func geluErf(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        map(x, count, y, GELUErfOp.self)
    }

    /// y = x·sigmoid(x).
    public static func silu(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        map(x, count, y, SiLUOp.self)
    }

    /// y = 1/(1 + e^−x).
    public static func sigmoid(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        map(x, count, y, SigmoidOp.self)
    }

    /// y = geluTanh(a) ⊙ b (y may alias a or b).
    public static func gatedGELU(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>
    ) {
        Elementwise.parallelChunks(count) { lo, hi in
            let n = hi - lo, ap = a + lo, bp = b + lo, yp = y + lo
            var i = 0
            while i + 8 <= n {
                store8(geluTanhVector(load8(ap + i)) * load8(bp + i), yp + i)
                i += 8
            }
            if i < n {
                var va = SIMD8<Float>(), vb = SIMD8<Float>()
                for j in i..<n { va[j - i] = ap[j]; vb[j - i] = bp[j] }
                let out = geluTanhVector(va) * vb
                for j in i..<n { yp[j] = out[j - i] }
            }
        }
    }

    // MARK: Internals

    @_transparent
    static func geluTanhVector(_ v: SIMD8<Float>) -> SIMD8<Float> {
        // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)·(x + 0.044715·x³).
        let u2 = v * (1.595_769_121_605_730_7 + 0.071_354_816_272_923_1 * (v * v))
        return v * VectorMath.sigmoid(u2)
    }

    /// Applies a vector function to count floats, parallel over chunks; the tail is zero-padded.
    /// Generic over the function type so each activation gets its own inlined loop.
    static func map<F: VectorFunction>(
        _ x: UnsafePointer<Float>, _ count: Int, _ y: UnsafeMutablePointer<Float>, _ op: F.Type
    ) {
        // F.apply is called directly: bound to a local function value it was called out of line per
        // vector (each SIMD8 split into two halves at the call), several times slower.
        Elementwise.parallelChunks(count) { lo, hi in
            let n = hi - lo, xp = x + lo, yp = y + lo
            var i = 0
            while i + 8 <= n { store8(F.apply(load8(xp + i)), yp + i); i += 8 }
            if i < n {
                var v = SIMD8<Float>()
                for j in i..<n { v[j - i] = xp[j] }
                let out = F.apply(v)
                for j in i..<n { yp[j] = out[j - i] }
            }
        }
    }

    static func mapTensor(
        _ x: Tensor, _ body: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        var y = Tensor(zeros: x.shape)
        let yp = y.mutablePointer()
        withExtendedLifetime(x) { body(x.pointer, x.count, yp) }
        return y
    }
}

/// A pointwise function on 8 floats (a type, so loops specialise and inline it).
protocol VectorFunction {
    static func apply(_ v: SIMD8<Float>) -> SIMD8<Float>
}

enum GELUTanhOp: VectorFunction {
    @inline(__always) static func apply(_ v: SIMD8<Float>) -> SIMD8<Float> { Activation.geluTanhVector(v) }
}

enum GELUErfOp: VectorFunction {
    @inline(__always) static func apply(_ v: SIMD8<Float>) -> SIMD8<Float> {
        v * 0.5 * VectorMath.erfc(v * -0.707_106_781_186_547_5)
    }
}

enum SiLUOp: VectorFunction {
    @inline(__always) static func apply(_ v: SIMD8<Float>) -> SIMD8<Float> { v * VectorMath.sigmoid(v) }
}

enum SigmoidOp: VectorFunction {
    @inline(__always) static func apply(_ v: SIMD8<Float>) -> SIMD8<Float> { VectorMath.sigmoid(v) }
}
