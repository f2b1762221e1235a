// The shipped demo model (Models/demo, trained by tools/demo-model) draws the motion its class names:
// every class is rendered for several seeds through `skipdit render` with the shipped demo config
// (the `make demo` path), without Skip-Cache and with N = 2; the MP4s are decoded back with ffmpeg
// and the shape's track on the frames must show the class's motion (ShapeTrack). The margins are wide:
// translations travel 35-39 px (10 needed), bounces fall and rise 22-33 px (6), sizes change 5-8x (2).

import Foundation
import XCTest

final class DemoModelTests: XCTestCase {
    static let root = SkipditBinary.repositoryRoot
    static let config = root.appendingPathComponent("etc/skipdit/demo.yaml")
    static let classes = root.appendingPathComponent("Models/demo/classes.txt")
    static let seeds = [1, 2, 3]
    static let size = 64

    private func renderAll(cache: String) throws -> [(label: String, seed: Int, motion: String)] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skipdit-demo-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: output) }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let names = try String(contentsOf: Self.classes, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(names.count, 7, "the demo model's classes")
        var seen: [(String, Int, String)] = []
        for label in names {
            let seeds = Self.seeds.map(String.init).joined(separator: ", ")
            let (status, text) = try SkipditBinary.render(
                job:
                    "version: 1\nmodel: demo\nclass: \(label)\nseeds: [\(seeds)]\ncache: \(cache)\noutput: \"\(label)-{seed}.mp4\"\n",
                named: label, config: Self.config, in: output)
            XCTAssertEqual(status, 0, text)
            for seed in Self.seeds {
                let frames = try MP4Frames.read(
                    output.appendingPathComponent("\(label)-\(seed).mp4"), width: Self.size, height: Self.size)
                seen.append((label, seed, ShapeTrack(frames: frames, width: Self.size, height: Self.size).motion))
            }
        }
        return seen
    }

    private func check(cache: String) throws {
        let results = try renderAll(cache: cache)
        for (label, seed, motion) in results {
            XCTAssertEqual(motion, label, "class \(label), seed \(seed), cache \(cache): the video shows \(motion)")
        }
    }

    func testEveryClassShowsItsMotionWithoutCache() throws { try check(cache: "off") }

    func testEveryClassShowsItsMotionWithSkipCacheN2() throws { try check(cache: "{ interval: 2 }") }
}
