// fp32 <-> bf16 conversion of buffers (bf16 = the upper 16 bits of an IEEE float32), rounding to
// nearest-even; NaNs stay quiet NaNs. Used for bf16 weight storage and the bf16 GEMM backend.

/// bf16 buffer conversions; bf16 values are carried as their UInt16 bit patterns.
public enum BFloat16 {
    /// bf16 bits of each value of x (round to nearest even).
    public static func encode(_ x: Tensor) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: x.count)
        out.withUnsafeMutableBufferPointer { dst in
            guard let d = dst.baseAddress else { return }
            withExtendedLifetime(x) { encode(x.pointer, count: x.count, into: d) }
        }
        return out
    }

    /// A float32 tensor of the given shape from bf16 bits.
    public static func decode(_ bits: [UInt16], shape: [Int]) -> Tensor {
        precondition(
            shape.reduce(1, *) == bits.count,
            "decode: shape \(shape) needs \(shape.reduce(1, *)) values, got \(bits.count)")
        var y = Tensor(zeros: shape)
        let yp = y.mutablePointer()
        bits.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { decode(s, count: bits.count, into: yp) }
        }
        return y
    }

    /// dst[i] = bf16 bits of src[i], round to nearest even.
    public static func encode(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>) {
        Elementwise.parallelChunks(count) { lo, hi in
            var i = lo
            while i + 8 <= hi {
                let bits = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt32>.self)
                UnsafeMutableRawPointer(dst + i).storeBytes(of: encodeVector(bits), as: SIMD8<UInt16>.self)
                i += 8
            }
            while i < hi { dst[i] = encodeScalar(src[i].bitPattern); i += 1 }
        }
    }

    /// dst[i] = the float32 value of bf16 bits src[i] (exact).
    public static func decode(_ src: UnsafePointer<UInt16>, count: Int, into dst: UnsafeMutablePointer<Float>) {
        Elementwise.parallelChunks(count) { lo, hi in
            var i = lo
            while i + 8 <= hi {
                let h = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt16>.self)
                let bits = SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16
                UnsafeMutableRawPointer(dst + i).storeBytes(of: bits, as: SIMD8<UInt32>.self)
                i += 8
            }
            while i < hi { dst[i] = Float(bitPattern: UInt32(src[i]) << 16); i += 1 }
        }
    }

    /// `x` rounded to the nearest bf16 (ties to even), returned as fp32. NaN stays NaN.
    @inline(__always)
    public static func rounded(_ x: Float) -> Float { Float(bitPattern: UInt32(bits(x)) << 16) }

    /// The bf16 bit pattern nearest to `x` (ties to even).
    @inline(__always)
    public static func bits(_ x: Float) -> UInt16 { encodeScalar(x.bitPattern) }

    /// bf16 bits of one float.
    @inline(__always)
    public static func encodeScalar(_ bits: UInt32) -> UInt16 {
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x0040) }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    @inline(__always)
    static func encodeVector(_ bits: SIMD8<UInt32>) -> SIMD8<UInt16> {
        let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
        let quietNaN = (bits &>> 16) | 0x0040
        // All-ones lanes where |x| > inf (NaN), computed without a mask select so it vectorises:
        // (inf − |x|) wraps around exactly for NaNs, and its sign bit spreads to a lane mask.
        let nan = (SIMD8<UInt32>(repeating: 0x7F80_0000) &- (bits & 0x7FFF_FFFF)) &>> 31
        let mask = SIMD8<UInt32>(repeating: 0) &- nan
        return SIMD8<UInt16>(truncatingIfNeeded: (rounded & ~mask) | (quietNaN & mask))
    }
}
