// skipdit encode: (F, H, W, 3) uint8 RGB frames from a .npy file to an H.264 MP4 (VideoIO.MP4Writer),
// and optionally a poster PNG next to it. Serves the tests, and users who bring their own frames.

import ArgumentParser
import Checkpoints
import Foundation
import VideoIO

struct EncodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode (F, H, W, 3) uint8 RGB frames from a .npy file as an H.264 MP4.",
        discussion: """
            Default: yuv420p (even sizes only), BT.709 tagged, CRF 18, preset medium, +faststart. \
            --lossless writes bit-exact RGB (libx264rgb, qp 0; any size) that ffmpeg decodes but most \
            players do not. The MP4 appears at --out only once complete.
            """)

    @Option(help: "The frames: a .npy file of shape (F, H, W, 3), dtype uint8, RGB.")
    var frames: String

    @Option(help: "Frames per second.")
    var fps: Int = 8

    @Option(help: "The MP4 to write (replaced atomically if it exists).")
    var out: String

    @Option(help: "x264 constant rate factor, 0-51 (lower is better).")
    var crf: Int = 18

    @Option(help: "x264 preset: \(MP4Options.presets.joined(separator: ", ")).")
    var preset: String = "medium"

    @Flag(help: "Lossless archival mode: bit-exact RGB (libx264rgb, qp 0).")
    var lossless = false

    @Option(help: "Encoder threads (0 lets x264 choose).")
    var threads: Int = 1

    @Flag(help: "Also write a poster PNG next to the video (same name, extension .png).")
    var poster = false

    @Option(help: "The frame index used for the poster.")
    var posterFrame: Int = 0

    func run() async throws {
        let input = URL(fileURLWithPath: frames)
        let array = try NumPy.read(input)
        guard array.dtype == .uint8, let bytes = array.uint8s() else {
            throw EncodeInputError(path: input.path, message: "dtype \(array.dtype.rawValue), expected uint8 ('|u1')")
        }
        let shape = array.shape
        guard shape.count == 4, shape[3] == 3, shape[0] > 0, shape[1] > 0, shape[2] > 0 else {
            throw EncodeInputError(path: input.path, message: "shape \(shape), expected (F, H, W, 3) RGB frames")
        }
        let (count, height, width) = (shape[0], shape[1], shape[2])
        guard !poster || (0..<count).contains(posterFrame) else {
            throw ValidationError("--poster-frame \(posterFrame) is outside 0..<\(count)")
        }

        let url = URL(fileURLWithPath: out)
        let options = MP4Options(crf: crf, preset: preset, lossless: lossless, threads: threads)
        let frameBytes = height * width * 3
        try bytes.withUnsafeBufferPointer { all in
            let writer = try MP4Writer(url: url, width: width, height: height, fps: fps, options: options)
            for f in 0..<count {
                try writer.append(rgb: UnsafeBufferPointer(rebasing: all[f * frameBytes..<(f + 1) * frameBytes]))
            }
            try writer.finish()
            if poster {
                let frame = UnsafeBufferPointer(
                    rebasing: all[posterFrame * frameBytes..<(posterFrame + 1) * frameBytes])
                try PosterWriter.writePNG(
                    rgb: frame, width: width, height: height, to: PosterWriter.posterURL(forVideo: url))
            }
        }
        print("wrote \(url.path): \(count) frames, \(width)x\(height), \(fps) fps")
    }
}

/// A frames file that is not (F, H, W, 3) uint8.
struct EncodeInputError: Error, CustomStringConvertible {
    let path: String
    let message: String

    var description: String { "\(path): \(message) (hint: save with numpy.save(path, frames.astype(numpy.uint8)))" }
}
