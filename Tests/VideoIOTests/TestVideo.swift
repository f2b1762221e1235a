// Test helpers for VideoIO: natural-looking synthetic frames (smooth gradients, a moving blob,
// light noise), PSNR, temp directories, and a writer that encodes a whole clip.

import Foundation
import VideoIO
import XCTest

/// A clip of F frames, each H*W*3 RGB bytes (row-major, top row first).
struct TestClip {
    let width: Int
    let height: Int
    let frames: [[UInt8]]

    /// Smooth colour gradients that drift, a soft bright blob moving left to right, and +-3 levels of
    /// deterministic noise. `noise` sets the noise amplitude (levels).
    static func natural(frames count: Int, width: Int, height: Int, noise: Double = 3, seed: UInt64 = 1) -> TestClip {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func uniform() -> Double {  // xorshift64*, in [-1, 1)
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return Double((state &* 0x2545_F491_4F6C_DD1D) >> 11) / Double(1 << 52) - 1
        }
        var frames: [[UInt8]] = []
        for t in 0..<count {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            let phase = Double(t) / Double(max(count, 1))
            let cx = Double(width) * (0.2 + 0.6 * phase), cy = Double(height) * (0.45 + 0.1 * sin(6.28 * phase))
            let sigma = Double(min(width, height)) * 0.15
            for y in 0..<height {
                for x in 0..<width {
                    let u = Double(x) / Double(width), v = Double(y) / Double(height)
                    var r = 40 + 150 * u + 20 * sin(6.28 * (v + phase))
                    var g = 60 + 110 * v + 25 * cos(6.28 * (u * 0.7 - phase))
                    var b = 170 - 90 * u * v + 30 * sin(3.14 * (u + v))
                    let dx = Double(x) - cx, dy = Double(y) - cy
                    let w = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                    r = r * (1 - w) + 235 * w
                    g = g * (1 - w) + 190 * w
                    b = b * (1 - w) + 70 * w
                    let i = (y * width + x) * 3
                    for (c, value) in [r, g, b].enumerated() {
                        rgb[i + c] = UInt8(max(0, min(255, (value + noise * uniform()).rounded())))
                    }
                }
            }
            frames.append(rgb)
        }
        return TestClip(width: width, height: height, frames: frames)
    }

    /// All frames concatenated, (F, H, W, 3).
    var bytes: [UInt8] { frames.flatMap { $0 } }

    /// Encodes the clip to `url` with an MP4Writer.
    func write(to url: URL, fps: Int, options: MP4Options = MP4Options()) throws {
        let writer = try MP4Writer(url: url, width: width, height: height, fps: fps, options: options)
        for frame in frames { try writer.append(rgb: frame) }
        try writer.finish()
    }
}

/// PSNR in dB between two equally long byte arrays (peak 255); infinity when equal.
func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count && !a.isEmpty)
    var sum = 0.0
    for i in 0..<a.count {
        let d = Double(a[i]) - Double(b[i])
        sum += d * d
    }
    let mse = sum / Double(a.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

/// A fresh directory under the system temp directory, removed by the caller.
func makeTempDirectory(_ name: String = "videoio") throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("skipdit-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The names in a directory, hidden ones included.
func directoryListing(_ url: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
}
