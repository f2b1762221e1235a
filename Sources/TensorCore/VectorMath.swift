// Vectorised math for the kernels: unaligned SIMD loads/stores on raw float pointers, and
// exp / sigmoid / erfc on SIMD8<Float> (Cephes-style range reduction + polynomial, about 2 ulp).
// The SIMD8 functions are @_transparent: with @inline(__always) the optimiser still called them
// out of line from some kernels, passing each SIMD8 as two 128-bit halves (perf: softmax and GELU
// ran several times slower).

/// SIMD width used by the streaming kernels (two AVX2 registers).
@usableFromInline let vectorWidth = 16

@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) @usableFromInline
func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) @usableFromInline
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

@inline(__always) @usableFromInline
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) @usableFromInline
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Vectorised elementary functions on 8 floats at a time.
public enum VectorMath {
    /// e^x, relative error about 2 ulp on [-87, 88]; 0 below −87 (including −∞), and inputs
    /// above 88 are clamped to 88.
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Compare-and-select (the generic clamped/pointwiseMax do not vectorise well).
        var xc = x.replacing(with: -87, where: x .< -87)
        xc.replace(with: 88, where: xc .> 88)
        // Round x·log2(e) to an integer n with the 1.5·2^23 trick; n sits in t's low mantissa bits.
        let magic: Float = 12_582_912
        let t = xc * 1.442_695_04 + magic
        let n = t - magic
        var r = xc - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * (r * r) + r + 1
        let tBits = unsafeBitCast(t, to: SIMD8<Int32>.self)
        let scaleBits = (tBits &- 0x4B40_0000 &+ 127) &<< 23
        let e = y * unsafeBitCast(scaleBits, to: SIMD8<Float>.self)
        return e.replacing(with: 0, where: x .< -87)
    }

    /// e^x for x ≤ 0 (including −∞, giving 0), as `exp` but with fused multiply-adds (a few ulp
    /// closer) and without the upper clamp: the softmax kernels' exp of scores minus their maximum.
    @_transparent
    public static func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let xc = x.replacing(with: -87, where: x .< -87)
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(xc, SIMD8(repeating: 1.442_695_04))
        let n = t - magic
        var r = xc.addingProduct(n, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.398_199_950_7e-3).addingProduct(SIMD8(repeating: 1.987_569_15e-4), r)
        p = SIMD8<Float>(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r * r)
        let tBits = unsafeBitCast(t, to: SIMD8<Int32>.self)
        let scaleBits = (tBits &- 0x4B40_0000 &+ 127) &<< 23
        let e = y * unsafeBitCast(scaleBits, to: SIMD8<Float>.self)
        return e.replacing(with: 0, where: x .< -87)
    }

    /// x[i] = e^(x[i] − shift) for i < count (a multiple of 8), with x ≤ shift; returns the sum.
    @inline(never)
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, minus shift: Float) -> Float {
        let s = SIMD8<Float>(repeating: shift)
        var sum = SIMD8<Float>()
        var i = 0
        while i < count {
            let e = expNonPositive(load8(x + i) - s)
            store8(e, x + i)
            sum += e
            i += 8
        }
        return horizontalSum(sum)
    }

    /// The largest of the 8 lanes (NaN-free input), in three vector steps.
    @_transparent
    public static func horizontalMax(_ v: SIMD8<Float>) -> Float {
        var h = v.lowHalf
        h.replace(with: v.highHalf, where: v.highHalf .> h)
        var q = h.lowHalf
        q.replace(with: h.highHalf, where: h.highHalf .> q)
        return q[1] > q[0] ? q[1] : q[0]
    }

    /// The sum of the 8 lanes, pairwise: ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)).
    @_transparent
    public static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let h = v.lowHalf + v.highHalf
        let q = h.lowHalf + h.highHalf
        return q[0] + q[1]
    }

    /// 1 / (1 + e^-x).
    @_transparent
    public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// Complementary error function, relative error < 1.2e-7 + exp's (Numerical Recipes erfcc).
    @_transparent
    public static func erfc(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let z = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.5 * z)
        var p = SIMD8<Float>(repeating: 0.170_872_77)
        p = p * t - 0.822_152_23
        p = p * t + 1.488_515_87
        p = p * t - 1.135_203_98
        p = p * t + 0.278_868_07
        p = p * t - 0.186_288_06
        p = p * t + 0.096_784_18
        p = p * t + 0.374_091_96
        p = p * t + 1.000_023_68
        p = p * t - 1.265_512_23
        let ans = t * exp(p - z * z)
        return ans.replacing(with: SIMD8<Float>(repeating: 2) - ans, where: x .< 0)
    }
}
