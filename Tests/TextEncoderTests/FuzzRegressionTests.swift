// Inputs found by fuzzing the tokenizer files (scripts/fuzz, targets spm and tokenizer-config). Each
// crashed or leaked before its fix; now each is a TextEncoderError naming the file.

import Foundation
import TestSupport
import TextEncoder
import XCTest

final class TokenizerFuzzRegressionTests: XCTestCase {
    private let fixture = Fixtures.suite("t2v").appendingPathComponent("model/tokenizer")
    private var cleanup: [URL] = []
    override func tearDown() {
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
        cleanup = []
    }

    /// A tokenizer folder with the fixture's spiece.model and `files` (name → contents).
    private func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tok-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        cleanup.append(url)
        try FileManager.default.copyItem(
            at: fixture.appendingPathComponent("spiece.model"), to: url.appendingPathComponent("spiece.model"))
        for (name, text) in files { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
        return url
    }

    private func expectFileError(
        _ files: [String: String], in name: String, _ needle: String, line: UInt = #line
    ) throws {
        let dir = try folder(files)
        XCTAssertThrowsError(try T5Tokenizer(directory: dir), line: line) { error in
            guard case TextEncoderError.tokenizerFile(let path, let reason) = error else {
                return XCTFail("\(error)", line: line)
            }
            XCTAssertEqual(path, dir.appendingPathComponent(name).path, line: line)
            XCTAssertTrue(reason.contains(needle), "'\(reason)' should mention '\(needle)'", line: line)
        }
    }

    /// spm: a piece holding a NUL byte makes sentencepiece throw (darts_clone: "failed to insert key:
    /// zero-length key"); the C wrapper caught it but leaked the half-loaded processor.
    func testModelWithANulInAPieceIsAnError() throws {
        // ModelProto: pieces <unk> (unknown), "\0a", "a"; trainer_spec: unigram, unk_id 0.
        let bytes: [UInt8] = [
            10, 14, 10, 5, 60, 117, 110, 107, 62, 21, 0, 0, 0, 0, 24, 2, 10, 11, 10, 2, 0, 97, 21, 0, 0, 128, 191, 24,
            1, 10, 10, 10, 1, 97, 21, 0, 0, 0, 192, 24, 1, 18, 5, 24, 1, 192, 2, 0,
        ]
        let dir = try folder([:])
        let url = dir.appendingPathComponent("nul-piece.model")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try SentencePieceModel(contentsOf: url)) { error in
            guard case TextEncoderError.tokenizerFile(let path, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertTrue(reason.contains("zero-length key"), reason)
        }
    }

    /// tokenizer-config: `"extra_ids": -1` crashed ("Range requires lowerBound <= upperBound"); a huge
    /// count would hang building the sentinel table, and a fraction was silently truncated.
    func testExtraIDsOutOfRangeAreErrors() throws {
        for value in ["-1", "1e30", "100000000", "2.5", "-9223372036854775808"] {
            try expectFileError(
                ["tokenizer_config.json": #"{"extra_ids": \#(value)}"#], in: "tokenizer_config.json", "extra_ids")
        }
        let tokenizer = try T5Tokenizer(directory: try folder(["tokenizer_config.json": #"{"extra_ids": 3}"#]))
        XCTAssertEqual(tokenizer.specialTokens["<extra_id_0>"], 302)
        XCTAssertEqual(tokenizer.specialTokens["<extra_id_2>"], 300)
    }

    /// tokenizer-config: negative added-token ids were accepted and later indexed the embedding table.
    func testNegativeAddedTokenIDsAreErrors() throws {
        try expectFileError(
            ["tokenizer_config.json": #"{"added_tokens_decoder": {"-3": {"content": "<x>"}}}"#],
            in: "tokenizer_config.json", "negative id")
        try expectFileError(["added_tokens.json": #"{"<x>": -1}"#], in: "added_tokens.json", "<x>")
        try expectFileError(["added_tokens.json": #"{"<x>": 1.5}"#], in: "added_tokens.json", "<x>")
        let tokenizer = try T5Tokenizer(directory: try folder(["added_tokens.json": #"{"<x>": 300}"#]))
        XCTAssertEqual(tokenizer.specialTokens["<x>"], 300)
    }

    /// tokenizer-config: an empty JSON file leaked 4 KiB per read (Data(contentsOf:) on Linux); it is
    /// still an error naming the file.
    func testEmptyJSONFileIsAnError() throws {
        try expectFileError(["tokenizer_config.json": ""], in: "tokenizer_config.json", "unreadable JSON")
        try expectFileError(["special_tokens_map.json": ""], in: "special_tokens_map.json", "unreadable JSON")
    }
}
