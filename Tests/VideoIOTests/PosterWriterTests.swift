// PosterWriter: the PNG decodes back to the exact RGB frame, sits next to the video, and is
// written atomically (no temp file left, nothing at the destination on failure).

import Foundation
import VideoIO
import XCTest

final class PosterWriterTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTempDirectory("poster") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testPNGRoundTripsExactly() throws {
        let clip = TestClip.natural(frames: 1, width: 45, height: 31, noise: 30)
        let video = directory.appendingPathComponent("clip.mp4")
        let url = PosterWriter.posterURL(forVideo: video)
        XCTAssertEqual(url.lastPathComponent, "clip.png")
        try PosterWriter.writePNG(rgb: clip.frames[0], width: 45, height: 31, to: url)
        let (stream, _) = try FFTools.probe(url)
        XCTAssertEqual(stream["codec_name"] as? String, "png")
        XCTAssertEqual(stream["pix_fmt"] as? String, "rgb24")
        XCTAssertEqual(stream["width"] as? Int, 45)
        XCTAssertEqual(stream["height"] as? Int, 31)
        XCTAssertEqual(Array(try Data(contentsOf: url).prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertTrue(try FFTools.decodeRGB(url) == clip.frames[0], "PNG decode differs")
        XCTAssertEqual(try directoryListing(directory), ["clip.png"])
    }

    func testMissingDirectoryFailsCleanly() throws {
        let url = directory.appendingPathComponent("missing/poster.png")
        let frame = [UInt8](repeating: 128, count: 8 * 8 * 3)
        XCTAssertThrowsError(try PosterWriter.writePNG(rgb: frame, width: 8, height: 8, to: url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path), text)
            XCTAssertTrue(text.contains("No such file or directory"), text)
        }
        XCTAssertEqual(try directoryListing(directory), [])
    }
}
