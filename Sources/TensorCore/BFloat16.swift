// bfloat16 conversion: fp32 -> bf16 with round-to-nearest-even (the rounding of oneDNN and
// PyTorch), vectorised 16 lanes at a time and spread over the cores for large buffers.

/// bfloat16 helpers. A bf16 value is the upper 16 bits of an fp32.
public enum BFloat16 {
    /// `x` rounded to the nearest bf16 (ties to even), returned as fp32. NaN stays NaN.
    @inlinable
    public static func rounded(_ x: Float) -> Float {
        Float(bitPattern: UInt32(bits(x)) << 16)
    }

    /// The bf16 bit pattern nearest to `x` (ties to even).
    @inlinable
    public static func bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if b & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }  // quiet NaN
        let rounding = ((b >> 16) & 1) &+ 0x7FFF
        return UInt16(truncatingIfNeeded: (b &+ rounding) >> 16)
    }

    /// Converts `count` floats to bf16 bit patterns.
    public static func convert(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>, count: Int) {
        let grain = 1 << 16
        Parallel.forRange((count + grain - 1) / grain, grain: 1) { chunks in
            let lo = chunks.lowerBound * grain
            let hi = min(count, chunks.upperBound * grain)
            convertSerial(src + lo, to: dst + lo, count: hi - lo)
        }
    }

    /// Converts a (rows, cols) matrix with row stride `ld` into a dense (rows, cols) bf16 matrix.
    static func convert(
        rows: Int, cols: Int, _ src: UnsafePointer<Float>, ld: Int, to dst: UnsafeMutablePointer<UInt16>
    ) {
        if ld == cols {
            convert(src, to: dst, count: rows * cols)
            return
        }
        Parallel.forRange(rows, grain: max(1, 65536 / max(cols, 1))) { r in
            for i in r { convertSerial(src + i * ld, to: dst + i * cols, count: cols) }
        }
    }

    @inline(__always)
    static func convertSerial(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<UInt16>, count: Int) {
        var i = 0
        let one = SIMD16<UInt32>(repeating: 1), half = SIMD16<UInt32>(repeating: 0x7FFF)
        let absMask = SIMD16<UInt32>(repeating: 0x7FFF_FFFF), inf = SIMD16<UInt32>(repeating: 0x7F80_0000)
        let quiet = SIMD16<UInt32>(repeating: 0x0040_0000)
        let raw = UnsafeRawPointer(src)
        let out = UnsafeMutableRawPointer(dst)
        while i + 16 <= count {
            let b = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            var r = b &+ (((b &>> 16) & one) &+ half)
            r.replace(with: b | quiet, where: (b & absMask) .> inf)
            let h = SIMD16<UInt16>(truncatingIfNeeded: r &>> 16)
            out.storeBytes(of: h, toByteOffset: i * 2, as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count {
            dst[i] = bits(src[i])
            i += 1
        }
    }
}
