// Per-channel row kernels of the decoders on channel-last rows: the GroupNorm affine (+ SiLU),
// adds and squared deviations, over SIMD8 lanes with a scalar tail. exp and sigmoid come from
// TensorCore's VectorMath.

import Foundation
import TensorCore

/// Row kernels over channel-last data.
enum ChannelKernels {
    typealias V = SIMD8<Float>

    /// x · sigmoid(x).
    @inline(__always)
    static func silu(_ x: V) -> V { x * VectorMath.sigmoid(x) }

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
        while i + 8 <= count {
            let o = i * 4
            var v =
                (rs.loadUnaligned(fromByteOffset: o, as: V.self) - rm.loadUnaligned(fromByteOffset: o, as: V.self))
                * rsc.loadUnaligned(fromByteOffset: o, as: V.self) + rsh.loadUnaligned(fromByteOffset: o, as: V.self)
            if applySiLU { v = silu(v) }
            rd.storeBytes(of: v, toByteOffset: o, as: V.self)
            i += 8
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
        while i + 8 <= count {
            let v =
                ra.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                + rs.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            ra.storeBytes(of: v, toByteOffset: i * 4, as: V.self)
            i += 8
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
        while i + 8 <= count {
            let d =
                rs.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                - rm.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            ra.storeBytes(
                of: ra.loadUnaligned(fromByteOffset: i * 4, as: V.self) + d * d, toByteOffset: i * 4, as: V.self)
            i += 8
        }
        while i < count {
            let d = src[i] - mean[i]
            acc[i] += d * d
            i += 1
        }
    }
}
