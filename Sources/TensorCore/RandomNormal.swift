// Counter-based standard-normal draws (Philox4x32-10 + Box–Muller): the value at (seed, stream,
// index) never depends on what was drawn before, so any slice can be regenerated exactly.

import Foundation

public enum RandomNormal {
    /// A tensor of independent N(0, 1) draws (times `scale`) for (seed, stream).
    public static func tensor(shape: [Int], seed: UInt64, stream: UInt64, scale: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        let n = t.count
        let p = t.mutablePointer()
        let blocks = (n + 3) / 4
        let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        Parallel.forRange(blocks, grain: 1024) { range in
            for blk in range {
                let counter = (
                    UInt32(truncatingIfNeeded: blk), UInt32(truncatingIfNeeded: blk >> 32),
                    UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)
                )
                let r = Self.philox(counter, key)
                let (z0, z1) = Self.boxMuller(r.0, r.1)
                let (z2, z3) = Self.boxMuller(r.2, r.3)
                let base = blk * 4
                for (j, z) in [z0, z1, z2, z3].enumerated() where base + j < n { p[base + j] = z * scale }
            }
        }
        return t
    }

    /// Two N(0,1) floats from two uniform 32-bit words.
    @inline(__always)
    static func boxMuller(_ a: UInt32, _ b: UInt32) -> (Float, Float) {
        let u1 = (Double(a) + 0.5) * 0x1p-32  // in (0, 1): log is finite
        let u2 = (Double(b) + 0.5) * 0x1p-32
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (Float(radius * Foundation.cos(angle)), Float(radius * Foundation.sin(angle)))
    }

    /// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
    @inline(__always)
    static func philox(
        _ ctr: (UInt32, UInt32, UInt32, UInt32), _ key: (UInt32, UInt32)
    ) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = ctr
        var k = key
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c.0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c.2)
            c = (
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0)
            )
            k = (k.0 &+ 0x9E37_79B9, k.1 &+ 0xBB67_AE85)
        }
        return c
    }
}
