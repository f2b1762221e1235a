// Decoder output -> uint8 RGB frames, reproducing the two official conversions operation by
// operation in float32 (spec vae-decoder.md §8):
// - class-to-video (sample.py): ((x·0.5 + 0.5)·255 + 0.5).clamp(0, 255) -> uint8: round half up;
// - text-to-video (pipeline_latte): ((x/2 + 0.5).clamp(0, 1)·255) -> uint8: truncation.
// Layout: (3, H, W) channel-first RGB in, (H, W, 3) interleaved RGB out, top row first.

import TensorCore

/// How a float frame becomes uint8 levels.
public enum FrameRounding: String, Sendable, CaseIterable {
    /// Class-to-video samplers: floor(clamp((x·0.5 + 0.5)·255 + 0.5, 0, 255)).
    case roundHalfUp
    /// Text-to-video pipeline: floor(clamp(x/2 + 0.5, 0, 1)·255).
    case truncate
}

/// Conversion of decoded frames to 8-bit RGB.
public enum FrameConversion {
    /// One value in [-1, 1] (nominally) to a level; NaN gives 0.
    @inline(__always)
    public static func level(_ x: Float, rounding: FrameRounding) -> UInt8 {
        let v: Float
        switch rounding {
        case .roundHalfUp:
            let a = x * 0.5
            let b = a + 0.5
            let c = b * 255
            v = min(max(c + 0.5, 0), 255)
        case .truncate:
            let a = x / 2
            let b = min(max(a + 0.5, 0), 1)
            v = b * 255
        }
        guard v.isFinite else { return 0 }  // NaN (clamps keep ±inf finite, but be safe)
        return UInt8(v.rounded(.towardZero))
    }

    /// A (3, H, W) frame as (H, W, 3) RGB bytes.
    public static func uint8(_ frame: Tensor, rounding: FrameRounding) -> [UInt8] {
        precondition(frame.rank == 3 && frame.shape[0] == 3, "a frame must be (3, H, W), got \(frame.shape)")
        var out = [UInt8](repeating: 0, count: frame.count)
        frame.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                convert(src, plane: frame.shape[1] * frame.shape[2], rounding: rounding, into: dst)
            }
        }
        return out
    }

    /// (F, 3, H, W) frames as (F, H, W, 3) RGB bytes.
    public static func uint8Video(_ frames: Tensor, rounding: FrameRounding) -> [UInt8] {
        precondition(frames.rank == 4 && frames.shape[1] == 3, "frames must be (F, 3, H, W), got \(frames.shape)")
        let plane = frames.shape[2] * frames.shape[3]
        var out = [UInt8](repeating: 0, count: frames.count)
        frames.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for f in 0..<frames.shape[0] {
                    convert(
                        UnsafeBufferPointer(rebasing: src[f * 3 * plane..<(f + 1) * 3 * plane]), plane: plane,
                        rounding: rounding,
                        into: UnsafeMutableBufferPointer(rebasing: dst[f * 3 * plane..<(f + 1) * 3 * plane]))
                }
            }
        }
        return out
    }

    /// Three channel planes of `plane` values -> interleaved RGB bytes.
    private static func convert(
        _ src: UnsafeBufferPointer<Float>, plane: Int, rounding: FrameRounding,
        into dst: UnsafeMutableBufferPointer<UInt8>
    ) {
        for p in 0..<plane {
            for ch in 0..<3 {
                let x = src[ch * plane + p]
                dst[p * 3 + ch] = x.isNaN ? 0 : level(x, rounding: rounding)
            }
        }
    }
}
