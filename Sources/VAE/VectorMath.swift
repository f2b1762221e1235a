// Vectorised elementwise helpers for the decoders: exp (Cephes polynomial, ~1 ulp), SiLU and the
// per-channel affine + SiLU used after GroupNorm, over SIMD16 lanes with a scalar tail.

import Foundation

/// 16-lane float helpers.
enum VectorMath {
    typealias V = SIMD16<Float>

    /// e^x for each lane (inputs clamped to [-87, 88], so no denormals or infinities).
    @inline(__always)
    static func exp(_ x: V) -> V {
        let x = pointwiseMin(pointwiseMax(x, V(repeating: -87)), V(repeating: 88))
        let magic = V(repeating: 12_582_912)  // 1.5 · 2^23: adding it rounds to an integer
        let t = x * V(repeating: 1.442_695_04) + magic
        let n = t - magic
        let r = x - n * V(repeating: 0.693_359_375) - n * V(repeating: -2.121_944_4e-4)
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + V(repeating: 1.398_199_95e-3)
        p = p * r + V(repeating: 8.333_451_9e-3)
        p = p * r + V(repeating: 4.166_579_59e-2)
        p = p * r + V(repeating: 1.666_666_55e-1)
        p = p * r + V(repeating: 5.000_000_12e-1)
        let y = p * (r * r) + r + V(repeating: 1)
        let k = unsafeBitCast(t, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        return y * unsafeBitCast((k &+ 127) &<< 23, to: V.self)
    }

    /// x · sigmoid(x) = x / (1 + e^-x).
    @inline(__always)
    static func silu(_ x: V) -> V { x / (V(repeating: 1) + exp(-x)) }

    @inline(__always)
    static func silu(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }

    /// dst[i] = f((src[i] − mean[i]) · scale[i] + shift[i]) for i in 0..<count, f = SiLU or identity.
    @inline(__always)
    static func normalize(
        _ src: UnsafePointer<Float>, mean: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        shift: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int, silu applySiLU: Bool
    ) {
        var i = 0
        let rs = UnsafeRawPointer(src), rm = UnsafeRawPointer(mean), rsc = UnsafeRawPointer(scale)
        let rsh = UnsafeRawPointer(shift), rd = UnsafeMutableRawPointer(dst)
        while i + 16 <= count {
            let o = i * 4
            var v = (rs.loadUnaligned(fromByteOffset: o, as: V.self) - rm.loadUnaligned(fromByteOffset: o, as: V.self))
                * rsc.loadUnaligned(fromByteOffset: o, as: V.self) + rsh.loadUnaligned(fromByteOffset: o, as: V.self)
            if applySiLU { v = silu(v) }
            rd.storeBytes(of: v, toByteOffset: o, as: V.self)
            i += 16
        }
        while i < count {
            let v = (src[i] - mean[i]) * scale[i] + shift[i]
            dst[i] = applySiLU ? silu(v) : v
            i += 1
        }
    }

    /// acc[i] += src[i] for i in 0..<count.
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let rs = UnsafeRawPointer(src), ra = UnsafeMutableRawPointer(acc)
        while i + 16 <= count {
            let v = ra.loadUnaligned(fromByteOffset: i * 4, as: V.self) + rs.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            ra.storeBytes(of: v, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count {
            acc[i] += src[i]
            i += 1
        }
    }

    /// acc[i] += (src[i] - mean[i])² for i in 0..<count.
    @inline(__always)
    static func addSquaredDeviation(
        _ src: UnsafePointer<Float>, mean: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        let rs = UnsafeRawPointer(src), rm = UnsafeRawPointer(mean), ra = UnsafeMutableRawPointer(acc)
        while i + 16 <= count {
            let d = rs.loadUnaligned(fromByteOffset: i * 4, as: V.self) - rm.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            ra.storeBytes(of: ra.loadUnaligned(fromByteOffset: i * 4, as: V.self) + d * d, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count {
            let d = src[i] - mean[i]
            acc[i] += d * d
            i += 1
        }
    }
}
