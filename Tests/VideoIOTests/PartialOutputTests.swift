// PartialOutput: the temp file a killed writer leaves next to its destination is found by the
// destination's name with the writer's pid, and only the given writers' leftovers are removed.

import Foundation
import VideoIO
import XCTest

final class PartialOutputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTempDirectory("partial") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testAnOpenWritersTempFileIsFoundWithItsPid() throws {
        let url = directory.appendingPathComponent("clip.mp4")
        let writer = try MP4Writer(url: url, width: 16, height: 16, fps: 8)
        try writer.append(rgb: TestClip.natural(frames: 1, width: 16, height: 16).frames[0])
        let found = PartialOutput.leftovers(of: url)
        XCTAssertEqual(found.map(\.pid), [getpid()])
        XCTAssertEqual(found.map { $0.url.lastPathComponent }, try directoryListing(directory))
        writer.cancel()
        XCTAssertTrue(PartialOutput.leftovers(of: url).isEmpty)
    }

    func testOnlyTheGivenWritersLeftoversOfThatDestinationAreRemoved() throws {
        let url = directory.appendingPathComponent("clip.mp4")
        let names = [
            ".clip.mp4.4001.1a2b.tmp",  // killed writer 4001
            ".clip.mp4.4002.ff.tmp",  // another writer, still running
            ".other.mp4.4001.1a2b.tmp",  // another destination
            ".clip.png.4001.77.tmp",  // the poster: its own destination
            "clip.mp4",  // the finished file
            ".clip.mp4.4001.tmp",  // not a writer's name
        ]
        for name in names { try Data("x".utf8).write(to: directory.appendingPathComponent(name)) }
        XCTAssertEqual(PartialOutput.leftovers(of: url).map(\.pid), [4001, 4002])
        let removed = PartialOutput.removeLeftovers(of: url, writtenBy: [4001, 4003])
        XCTAssertEqual(removed.map(\.lastPathComponent), [".clip.mp4.4001.1a2b.tmp"])
        XCTAssertEqual(
            try directoryListing(directory),
            names.filter { $0 != ".clip.mp4.4001.1a2b.tmp" }.sorted())
        let poster = PartialOutput.removeLeftovers(of: directory.appendingPathComponent("clip.png"), writtenBy: [4001])
        XCTAssertEqual(poster.map(\.lastPathComponent), [".clip.png.4001.77.tmp"])
    }
}
