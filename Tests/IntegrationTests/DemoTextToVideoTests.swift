// The shipped text-to-video demo model (Models/demo-t2v, trained by tools/demo-t2v) draws what its
// prompt says: every held-out prompt of its grammar (colour, shape and motion combinations never shown
// together in training; Models/demo-t2v/grammar.json) is rendered through `skipdit render` with the
// shipped demo config and its Skip-Cache default, the MP4 is decoded with ffmpeg, and the shape's track
// (ShapeTrack) must show the prompt's motion and its median colour must be nearest the prompt's colour,
// each in at least 90% of the prompts (the bar; the README gives the measured figures). A
// regression anywhere in the chain — prompt cleaning, tokenizer, T5, caption projection, the T2V
// transformer with Skip-Cache, the temporal decoder, the MP4 — breaks it.

import Foundation
import XCTest

final class DemoTextToVideoTests: XCTestCase {
    static let root = SkipditBinary.repositoryRoot
    static let config = root.appendingPathComponent("etc/skipdit/demo.yaml")
    static let grammarFile = root.appendingPathComponent("Models/demo-t2v/grammar.json")
    static let size = 64

    struct Grammar: Decodable {
        struct Prompt: Decodable {
            let prompt: String
            let colour: String
            let shape: String
            let motion: String
        }
        let colours: [String: [Double]]
        let heldOut: [Prompt]
        enum CodingKeys: String, CodingKey {
            case colours
            case heldOut = "held_out"
        }
    }

    /// The palette colour nearest to `rgb` (0...1).
    private func nearest(_ rgb: [Double], in palette: [String: [Double]]) -> String? {
        palette.min { a, b in
            zip(a.value, rgb).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                < zip(b.value, rgb).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        }?.key
    }

    func testHeldOutPromptsShowTheirColourAndMotion() throws {
        let grammar = try JSONDecoder().decode(Grammar.self, from: Data(contentsOf: Self.grammarFile))
        XCTAssertGreaterThanOrEqual(grammar.heldOut.count, 10, "the grammar's held-out prompts")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skipdit-demo-t2v-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: output) }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)

        var motionRight = 0, colourRight = 0
        var report: [String] = []
        for (index, held) in grammar.heldOut.enumerated() {
            let quoted = held.prompt.replacingOccurrences(of: "\"", with: "\\\"")
            let (status, text) = try SkipditBinary.render(
                job:
                    "version: 1\ntask: text-to-video\nmodel: demo-t2v\nprompt: \"\(quoted)\"\nseed: 1\noutput: \"p\(index).mp4\"\n",
                named: "prompt-\(index)", config: Self.config, in: output)
            XCTAssertEqual(status, 0, text)
            guard status == 0 else { continue }
            let frames = try MP4Frames.read(
                output.appendingPathComponent("p\(index).mp4"), width: Self.size, height: Self.size)
            let track = ShapeTrack(frames: frames, width: Self.size, height: Self.size)
            let colour = track.colour.flatMap { nearest($0, in: grammar.colours) } ?? "none"
            if track.motion == held.motion { motionRight += 1 }
            if colour == held.colour { colourRight += 1 }
            report.append("\(held.prompt): \(colour) \(track.motion)")
        }
        let count = Double(grammar.heldOut.count)
        let summary =
            "motion \(motionRight)/\(grammar.heldOut.count), colour \(colourRight)/\(grammar.heldOut.count)\n"
            + report.joined(separator: "\n")
        print(summary)
        XCTAssertGreaterThanOrEqual(Double(motionRight) / count, 0.9, summary)
        XCTAssertGreaterThanOrEqual(Double(colourRight) / count, 0.9, summary)
    }
}
