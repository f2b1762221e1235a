// MP4Writer on failure paths: bad sizes and options, a missing or read-only directory, a full disk
// (a 64 KiB tmpfs, when the test may mount one), cancel and deinit. Each must give a clear error
// naming the path and leave nothing behind: no file at the destination, no temp file beside it.

import Foundation
import VideoIO
import XCTest

final class MP4WriterFailureTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTempDirectory("mp4-fail") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func assertEmpty(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(
            (try? directoryListing(dir)) ?? ["<unreadable>"], [], "files left behind", file: file, line: line)
    }

    func testOddSizeIsRejected() throws {
        let url = directory.appendingPathComponent("odd.mp4")
        for (width, height) in [(33, 32), (32, 17), (255, 255)] {
            XCTAssertThrowsError(try MP4Writer(url: url, width: width, height: height, fps: 8)) { error in
                guard case VideoIOError.invalidSize(width, height, _, url.path) = error else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertTrue("\(error)".contains("even"), "\(error)")
            }
        }
        assertEmpty(directory)
    }

    func testInvalidOptionsAreRejected() throws {
        let url = directory.appendingPathComponent("options.mp4")
        let cases: [(Int, MP4Options, String)] = [
            (0, MP4Options(), "fps"), (8, MP4Options(crf: 52), "crf"), (8, MP4Options(crf: -1), "crf"),
            (8, MP4Options(preset: "turbo"), "preset"), (8, MP4Options(threads: -1), "threads"),
        ]
        for (fps, options, name) in cases {
            XCTAssertThrowsError(try MP4Writer(url: url, width: 16, height: 16, fps: fps, options: options)) { error in
                guard case VideoIOError.invalidOption(name, _, _, url.path) = error else {
                    return XCTFail("expected invalid \(name), got \(error)")
                }
            }
        }
        assertEmpty(directory)
    }

    func testMissingDirectoryGivesAvErrorText() throws {
        let url = directory.appendingPathComponent("no/such/dir/out.mp4")
        XCTAssertThrowsError(try MP4Writer(url: url, width: 16, height: 16, fps: 8)) { error in
            let text = "\(error)"
            XCTAssertEqual((error as? VideoIOError)?.path, url.path)
            XCTAssertTrue(text.contains(url.path), text)
            XCTAssertTrue(text.contains("avio_open"), text)
            XCTAssertTrue(text.contains("No such file or directory"), text)
        }
        assertEmpty(directory)
    }

    func testUnwritableDirectory() throws {
        let target = directory.appendingPathComponent("readonly")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        // Root ignores permission bits, so as root make the directory a read-only tmpfs instead.
        var mounted = false
        if geteuid() == 0 {
            mounted = Mount.tmpfs(at: target, size: "64k", readOnly: true)
            if !mounted { throw XCTSkip("cannot mount a tmpfs here") }
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: target.path)
        }
        defer {
            if mounted { Mount.unmount(target) }
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target.path)
        }
        let url = target.appendingPathComponent("out.mp4")
        XCTAssertThrowsError(try MP4Writer(url: url, width: 16, height: 16, fps: 8)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path), text)
            XCTAssertTrue(text.contains("Read-only file system") || text.contains("Permission denied"), text)
        }
        XCTAssertThrowsError(
            try PosterWriter.writePNG(
                rgb: [UInt8](repeating: 0, count: 12), width: 2, height: 2,
                to: target.appendingPathComponent("p.png")))
        assertEmpty(target)
    }

    func testFullDiskLeavesNothingBehind() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let target = directory.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        guard Mount.tmpfs(at: target, size: "64k") else { throw XCTSkip("cannot mount a tmpfs here") }
        defer { Mount.unmount(target) }
        // Heavy noise at CRF 18 compresses poorly: far more than 64 KiB.
        let clip = TestClip.natural(frames: 16, width: 256, height: 256, noise: 40)
        let url = target.appendingPathComponent("full.mp4")
        var failure: Error?
        do {
            let writer = try MP4Writer(
                url: url, width: 256, height: 256, fps: 8, options: MP4Options(preset: "ultrafast"))
            for frame in clip.frames { try writer.append(rgb: frame) }
            try writer.finish()
        } catch {
            failure = error
        }
        let text = "\(try XCTUnwrap(failure, "encoding 16 noisy 256x256 frames into 64 KiB succeeded"))"
        XCTAssertTrue(text.contains(url.path), text)
        XCTAssertTrue(text.contains("No space left on device"), text)
        assertEmpty(target)
        // The poster writer fails the same way when it cannot fit.
        let poster = target.appendingPathComponent("full.png")
        XCTAssertThrowsError(
            try PosterWriter.writePNG(
                rgb: clip.frames[0] + clip.frames[1], width: 256, height: 512,
                to: poster)
        ) { error in
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
        }
        assertEmpty(target)
    }

    func testCancelAndDeinitRemoveTheTempFile() throws {
        let clip = TestClip.natural(frames: 3, width: 32, height: 32)
        let url = directory.appendingPathComponent("cancel.mp4")
        let writer = try MP4Writer(url: url, width: 32, height: 32, fps: 8)
        for frame in clip.frames { try writer.append(rgb: frame) }
        let listing = try directoryListing(directory)
        XCTAssertEqual(listing.count, 1)
        XCTAssertTrue(listing.allSatisfy { $0.hasPrefix(".cancel.mp4.") && $0.hasSuffix(".tmp") }, "\(listing)")
        writer.cancel()
        assertEmpty(directory)
        XCTAssertThrowsError(try writer.append(rgb: clip.frames[0])) { error in
            guard case VideoIOError.invalidState = error else { return XCTFail("unexpected \(error)") }
        }
        XCTAssertThrowsError(try writer.finish())
        assertEmpty(directory)

        do {
            let abandoned = try MP4Writer(url: url, width: 32, height: 32, fps: 8)
            try abandoned.append(rgb: clip.frames[0])
            XCTAssertEqual(try directoryListing(directory).count, 1)
        }
        assertEmpty(directory)
    }

    func testFinishWithoutFramesFails() throws {
        let url = directory.appendingPathComponent("empty.mp4")
        let writer = try MP4Writer(url: url, width: 16, height: 16, fps: 8)
        XCTAssertThrowsError(try writer.finish()) { error in
            XCTAssertTrue("\(error)".contains("no frames"), "\(error)")
        }
        assertEmpty(directory)
    }

    func testWriterRejectsCallsAfterFinish() throws {
        let url = directory.appendingPathComponent("done.mp4")
        let frame = TestClip.natural(frames: 1, width: 16, height: 16).frames[0]
        let writer = try MP4Writer(url: url, width: 16, height: 16, fps: 8)
        try writer.append(rgb: frame)
        try writer.finish()
        XCTAssertThrowsError(try writer.append(rgb: frame))
        XCTAssertThrowsError(try writer.finish())
        writer.cancel()  // must not remove the finished file
        XCTAssertEqual(try directoryListing(directory), ["done.mp4"])
    }
}

/// mount(2)/umount(2) for the tmpfs tests (system calls, not subprocesses, so the tests also run
/// under valgrind).
enum Mount {
    /// Mounts a tmpfs of `size` at `url`; false when this environment does not allow it.
    static func tmpfs(at url: URL, size: String, readOnly: Bool = false) -> Bool {
        mount("tmpfs", url.path, "tmpfs", readOnly ? UInt(MS_RDONLY) : 0, "size=\(size)") == 0
    }

    static func unmount(_ url: URL) {
        _ = umount(url.path)
    }
}
