// MP4Writer on success paths, checked independently with ffprobe/ffmpeg: stream fields, colour
// tags, timing, faststart box order, PSNR after decoding (honouring the tags), lossless round trip.

import Foundation
import VideoIO
import XCTest

final class MP4WriterTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTempDirectory("mp4") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testStreamFieldsColourTagsAndTiming() throws {
        // (frames, fps): the official 16 frames at 8 fps, and other rates whose durations are exact.
        for (frames, fps) in [(16, 8), (9, 30), (10, 25)] {
            let clip = TestClip.natural(frames: frames, width: 96, height: 64)
            let url = directory.appendingPathComponent("clip-\(fps).mp4")
            try clip.write(to: url, fps: fps)
            let (stream, format) = try FFTools.probe(url)
            let context = "\(frames) frames at \(fps) fps"
            XCTAssertEqual(stream["codec_name"] as? String, "h264", context)
            XCTAssertEqual(stream["profile"] as? String, "High", context)
            XCTAssertEqual(stream["pix_fmt"] as? String, "yuv420p", context)
            XCTAssertEqual(stream["width"] as? Int, 96, context)
            XCTAssertEqual(stream["height"] as? Int, 64, context)
            XCTAssertEqual(stream["nb_frames"] as? String, "\(frames)", context)
            XCTAssertEqual(stream["nb_read_frames"] as? String, "\(frames)", context)
            XCTAssertEqual(stream["r_frame_rate"] as? String, "\(fps)/1", context)
            XCTAssertEqual(stream["avg_frame_rate"] as? String, "\(fps)/1", context)
            let expected = Double(frames) / Double(fps)
            XCTAssertEqual(Double(stream["duration"] as? String ?? "") ?? -1, expected, accuracy: 1e-6, context)
            XCTAssertEqual(Double(format["duration"] as? String ?? "") ?? -1, expected, accuracy: 1e-6, context)
            XCTAssertEqual(stream["color_range"] as? String, "tv", context)
            XCTAssertEqual(stream["color_space"] as? String, "bt709", context)
            XCTAssertEqual(stream["color_primaries"] as? String, "bt709", context)
            XCTAssertEqual(stream["color_transfer"] as? String, "bt709", context)
            XCTAssertEqual(try directoryListing(directory).filter { $0.hasPrefix(".") }, [], "temp file left")
        }
    }

    func testMoovComesBeforeMdat() throws {
        let url = directory.appendingPathComponent("faststart.mp4")
        try TestClip.natural(frames: 8, width: 64, height: 48).write(to: url, fps: 8)
        let boxes = try FFTools.topLevelBoxes(url)
        XCTAssertEqual(boxes.first, "ftyp", "\(boxes)")
        let moov = try XCTUnwrap(boxes.firstIndex(of: "moov"), "\(boxes)")
        let mdat = try XCTUnwrap(boxes.firstIndex(of: "mdat"), "\(boxes)")
        XCTAssertLessThan(moov, mdat, "moov must precede mdat (+faststart): \(boxes)")
    }

    func testDecodedPSNRAtDefaultCRF() throws {
        let clip = TestClip.natural(frames: 16, width: 128, height: 96)
        let url = directory.appendingPathComponent("psnr.mp4")
        try clip.write(to: url, fps: 8)
        // ffmpeg's scale filter takes the matrix and range from the stream's tags.
        let decoded = try FFTools.decodeRGB(url)
        XCTAssertEqual(decoded.count, clip.bytes.count)
        let tagged = psnr(decoded, clip.bytes)
        XCTAssertGreaterThanOrEqual(tagged, 37, "PSNR honouring the tags")
        // Negative control: reading the same stream with the BT.601 matrix must be visibly worse,
        // which shows the check above really depends on matrix and tags agreeing.
        let wrong = psnr(try FFTools.decodeRGB(url, filter: "scale=in_color_matrix=bt601:in_range=tv"), clip.bytes)
        XCTAssertLessThan(wrong, 33, "PSNR with a mismatched matrix")
        print("VideoIO PSNR at CRF 18: \(tagged) dB honouring the tags, \(wrong) dB read as BT.601")
    }

    func testLowerCRFGivesHigherPSNR() throws {
        let clip = TestClip.natural(frames: 6, width: 64, height: 64)
        var results: [Double] = []
        for crf in [35, 18, 5] {
            let url = directory.appendingPathComponent("crf\(crf).mp4")
            try clip.write(to: url, fps: 8, options: MP4Options(crf: crf, preset: "fast"))
            results.append(psnr(try FFTools.decodeRGB(url), clip.bytes))
        }
        XCTAssertLessThan(results[0], results[1], "\(results)")
        XCTAssertLessThan(results[1], results[2], "\(results)")
    }

    func testLosslessModeRoundTripsExactly() throws {
        // Odd sizes are allowed here: libx264rgb codes 4:4:4 RGB.
        let clip = TestClip.natural(frames: 5, width: 67, height: 35, noise: 20)
        let url = directory.appendingPathComponent("lossless.mp4")
        try clip.write(to: url, fps: 8, options: MP4Options(lossless: true))
        let (stream, _) = try FFTools.probe(url)
        XCTAssertEqual(stream["codec_name"] as? String, "h264")
        XCTAssertEqual(stream["profile"] as? String, "High 4:4:4 Predictive")
        XCTAssertEqual(stream["pix_fmt"] as? String, "gbrp")
        XCTAssertEqual(stream["nb_read_frames"] as? String, "5")
        XCTAssertEqual(stream["color_space"] as? String, "gbr")
        XCTAssertEqual(stream["color_range"] as? String, "pc")
        let decoded = try FFTools.decodeRGB(url)
        XCTAssertEqual(decoded.count, clip.bytes.count)
        XCTAssertTrue(decoded == clip.bytes, "lossless decode differs: PSNR \(psnr(decoded, clip.bytes)) dB")
        XCTAssertLessThan(
            try FFTools.topLevelBoxes(url).firstIndex(of: "moov") ?? .max,
            try FFTools.topLevelBoxes(url).firstIndex(of: "mdat") ?? -1)
    }

    func testReplacesAnExistingFileOnlyAtFinish() throws {
        let url = directory.appendingPathComponent("replace.mp4")
        let old = Data("previous contents".utf8)
        try old.write(to: url)
        let clip = TestClip.natural(frames: 4, width: 32, height: 32)
        let writer = try MP4Writer(url: url, width: 32, height: 32, fps: 8)
        for frame in clip.frames { try writer.append(rgb: frame) }
        XCTAssertEqual(try Data(contentsOf: url), old, "the destination changed before finish()")
        XCTAssertEqual(writer.frameCount, 4)
        try writer.finish()
        XCTAssertEqual(try FFTools.probe(url).stream["nb_read_frames"] as? String, "4")
        XCTAssertEqual(try directoryListing(directory), ["replace.mp4"])
    }

    func testAppendAcceptsUnsafeBufferPointer() throws {
        let clip = TestClip.natural(frames: 2, width: 16, height: 16)
        let url = directory.appendingPathComponent("buffer.mp4")
        let writer = try MP4Writer(url: url, width: 16, height: 16, fps: 8, options: MP4Options(lossless: true))
        for frame in clip.frames {
            try frame.withUnsafeBufferPointer { try writer.append(rgb: $0) }
        }
        try writer.finish()
        XCTAssertEqual(try FFTools.decodeRGB(url), clip.bytes)
    }
}
