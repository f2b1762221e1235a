// A 3x3 convolution (stride 1, padding 1, bias) by Winograd's minimal filtering F(2x2, 3x3)
// (Lavin & Gray 2015): each 2x2 output tile is A^T [(G g G^T) ⊙ (B^T d B)] A over its 4x4 input
// tile d. The elementwise products over all tiles become 16 GEMMs (one per transform point ξ) of
// (tiles, C_in) · (C_in, C_out): 16 multiply-adds per tile and channel pair instead of 36, i.e.
// 2.25x fewer than the direct convolution. The transforms only add, subtract and halve, so the
// result matches the direct convolution to a few float ulps (checked by the fixtures).
//
// Works on `FeatureMap`s with even H and W and channel counts that are multiples of 16; tiles are
// processed in bands so the transformed input and products stay within `bandBytes`.

import TensorCore

/// F(2x2, 3x3) Winograd convolution C_in -> C_out.
final class WinogradConv3x3 {
    let inChannels: Int
    let outChannels: Int
    /// U_ξ = (G g G^T)[ξ] as (C_out, C_in), for ξ = 4·row + column.
    private let transformed: [PreparedWeight]
    private let bias: Tensor
    private let engine: GEMMEngine

    /// Bound on the transformed-input plus product scratch per band.
    static let bandBytes = 32 << 20

    /// Whether a map of these sizes can use this path.
    static func supports(inChannels: Int, outChannels: Int) -> Bool {
        inChannels % 16 == 0 && outChannels % 16 == 0
    }

    /// weight: [C_out, C_in, 3, 3]; bias: [C_out].
    init(weight: Tensor, bias: Tensor, engine: GEMMEngine) {
        precondition(
            weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3, "Winograd weight \(weight.shape)")
        let (co, ci) = (weight.shape[0], weight.shape[1])
        precondition(Self.supports(inChannels: ci, outChannels: co), "Winograd needs channel counts divisible by 16")
        inChannels = ci
        outChannels = co
        self.bias = bias
        self.engine = engine
        let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        var u = [Tensor](repeating: Tensor(zeros: [co, ci]), count: 16).map { $0.copy() }
        let w = weight.pointer
        var pointers = (0..<16).map { u[$0].mutablePointer() }
        for o in 0..<co {
            for i in 0..<ci {
                let k = w + (o * ci + i) * 9
                for a in 0..<4 {
                    for b in 0..<4 {
                        var s = 0.0
                        for r in 0..<3 { for c in 0..<3 { s += g[a][r] * Double(k[r * 3 + c]) * g[b][c] } }
                        pointers[a * 4 + b][o * ci + i] = Float(s)
                    }
                }
            }
        }
        pointers.removeAll()
        transformed = u.map { engine.prepare(weight: $0) }
    }

    /// output = conv(input), or output += conv(input) when `accumulate`. H and W must be even.
    func apply(_ input: FeatureMap, into output: FeatureMap, accumulate: Bool) {
        precondition(input.channels == inChannels && output.channels == outChannels, "Winograd channels")
        precondition(input.height == output.height && input.width == output.width, "Winograd sizes")
        precondition(input.height % 2 == 0 && input.width % 2 == 0, "Winograd needs even sizes")
        let ci = inChannels, co = outChannels
        let tilesWide = input.width / 2, tilesHigh = input.height / 2
        let bandTileRows = max(1, min(tilesHigh, Self.bandBytes / (16 * (ci + co) * 4 * tilesWide)))
        let maxTiles = bandTileRows * tilesWide
        let vBuffer = input.pool.take(count: 16 * maxTiles * ci), mBuffer = input.pool.take(count: 16 * maxTiles * co)
        defer {
            input.pool.give(vBuffer)
            input.pool.give(mBuffer)
        }
        let v = vBuffer.pointer, m = mBuffer.pointer
        withExtendedLifetime(bias) {
            let biasPointer = bias.pointer
            var ty0 = 0
            while ty0 < tilesHigh {
                let ty1 = min(tilesHigh, ty0 + bandTileRows)
                let tiles = (ty1 - ty0) * tilesWide
                Parallel.forRange(tiles, grain: 8) { range in
                    for t in range {
                        Self.inputTransform(
                            input, tileY: ty0 + t / tilesWide, tileX: t % tilesWide, into: v + t * ci,
                            stride: tiles * ci)
                    }
                }
                for xi in 0..<16 {
                    engine.linear(
                        v + xi * tiles * ci, rows: tiles, weight: transformed[xi], bias: nil, into: m + xi * tiles * co)
                }
                Parallel.forRange(tiles, grain: 8) { range in
                    for t in range {
                        Self.outputTransform(
                            m + t * co, stride: tiles * co, bias: biasPointer, into: output, tileY: ty0 + t / tilesWide,
                            tileX: t % tilesWide, accumulate: accumulate)
                    }
                }
                ty0 = ty1
            }
        }
    }

    /// V = B^T d B for the 4x4 input tile at padded (2·ty, 2·tx); V[ξ] goes to dst + ξ·stride.
    @inline(__always)
    static func inputTransform(
        _ map: FeatureMap, tileY: Int, tileX: Int, into dst: UnsafeMutablePointer<Float>, stride: Int
    ) {
        typealias V = SIMD16<Float>
        let c = map.channels, rp = map.rowPixels
        let base = UnsafeRawPointer(map.origin + ((2 * tileY) * rp + 2 * tileX) * c)
        let out = UnsafeMutableRawPointer(dst)
        let rowBytes = rp * c * 4, pixelBytes = c * 4
        var ch = 0
        while ch < c {
            let o = ch * 4
            @inline(__always) func d(_ i: Int, _ j: Int) -> V {
                base.loadUnaligned(fromByteOffset: i * rowBytes + j * pixelBytes + o, as: V.self)
            }
            // t = B^T d (rows), then V = t B (columns), one row i of t at a time.
            @inline(__always) func row(_ i: Int, _ t0: V, _ t1: V, _ t2: V, _ t3: V) {
                let s = (4 * i) * stride * 4 + o
                out.storeBytes(of: t0 - t2, toByteOffset: s, as: V.self)
                out.storeBytes(of: t1 + t2, toByteOffset: s + stride * 4, as: V.self)
                out.storeBytes(of: t2 - t1, toByteOffset: s + 2 * stride * 4, as: V.self)
                out.storeBytes(of: t1 - t3, toByteOffset: s + 3 * stride * 4, as: V.self)
            }
            let d00 = d(0, 0), d01 = d(0, 1), d02 = d(0, 2), d03 = d(0, 3)
            let d10 = d(1, 0), d11 = d(1, 1), d12 = d(1, 2), d13 = d(1, 3)
            let d20 = d(2, 0), d21 = d(2, 1), d22 = d(2, 2), d23 = d(2, 3)
            let d30 = d(3, 0), d31 = d(3, 1), d32 = d(3, 2), d33 = d(3, 3)
            row(0, d00 - d20, d01 - d21, d02 - d22, d03 - d23)
            row(1, d10 + d20, d11 + d21, d12 + d22, d13 + d23)
            row(2, d20 - d10, d21 - d11, d22 - d12, d23 - d13)
            row(3, d10 - d30, d11 - d31, d12 - d32, d13 - d33)
            ch += 16
        }
    }

    /// Y = A^T M A (+ bias) for one tile's 16 products (M[ξ] at src + ξ·stride) into output pixels
    /// (2·ty + a, 2·tx + b), written or added.
    @inline(__always)
    static func outputTransform(
        _ src: UnsafeMutablePointer<Float>, stride: Int, bias: UnsafePointer<Float>, into map: FeatureMap, tileY: Int,
        tileX: Int, accumulate: Bool
    ) {
        typealias V = SIMD16<Float>
        let c = map.channels
        let input = UnsafeRawPointer(src), b = UnsafeRawPointer(bias)
        let p00 = UnsafeMutableRawPointer(map.pixel(2 * tileY, 2 * tileX)),
            p10 = UnsafeMutableRawPointer(map.pixel(2 * tileY + 1, 2 * tileX))
        let pixelBytes = c * 4
        var ch = 0
        while ch < c {
            let o = ch * 4
            @inline(__always) func mm(_ xi: Int) -> V {
                input.loadUnaligned(fromByteOffset: xi * stride * 4 + o, as: V.self)
            }
            // s = A^T M (rows), Y = s A (columns).
            let m00 = mm(0), m01 = mm(1), m02 = mm(2), m03 = mm(3), m10 = mm(4), m11 = mm(5), m12 = mm(6), m13 = mm(7)
            let m20 = mm(8), m21 = mm(9), m22 = mm(10), m23 = mm(11), m30 = mm(12), m31 = mm(13), m32 = mm(14),
                m33 = mm(15)
            let a0 = m00 + m10 + m20, a1 = m01 + m11 + m21, a2 = m02 + m12 + m22, a3 = m03 + m13 + m23
            let b0 = m10 - m20 - m30, b1 = m11 - m21 - m31, b2 = m12 - m22 - m32, b3 = m13 - m23 - m33
            let bv = b.loadUnaligned(fromByteOffset: o, as: V.self)
            @inline(__always) func put(_ p: UnsafeMutableRawPointer, _ off: Int, _ y: V) {
                p.storeBytes(
                    of: accumulate ? p.loadUnaligned(fromByteOffset: off, as: V.self) + y : y, toByteOffset: off,
                    as: V.self)
            }
            put(p00, o, a0 + a1 + a2 + bv)
            put(p00, o + pixelBytes, a1 - a2 - a3 + bv)
            put(p10, o, b0 + b1 + b2 + bv)
            put(p10, o + pixelBytes, b1 - b2 - b3 + bv)
            ch += 16
        }
    }
}
