// Tokenizer behaviour beyond the fixture case: the sentencepiece wrapper, truncation to
// max length with eos kept, padding, special-token strings in raw text, sentinel ids and the
// relative-position buckets of the spec's table.

import Foundation
import TestSupport
import TextEncoder
import XCTest

final class T5TokenizerTests: XCTestCase {
    private let folder = Fixtures.suite("t2v").appendingPathComponent("model/tokenizer")

    func testSentencePieceWrapper() throws {
        let model = try SentencePieceModel(contentsOf: folder.appendingPathComponent("spiece.model"))
        XCTAssertEqual(model.pieceCount, 300)
        XCTAssertEqual(model.paddingID, 0)
        XCTAssertEqual(model.endOfSequenceID, 1)
        XCTAssertEqual(model.unknownID, 2)
        XCTAssertNil(model.beginningOfSequenceID)
        XCTAssertEqual(model.piece(ofID: 1), "</s>")
        XCTAssertEqual(model.id(ofPiece: "</s>"), 1)
        XCTAssertNil(model.id(ofPiece: "no such piece"))
        XCTAssertTrue(model.isControl(1))
        XCTAssertFalse(model.isControl(4))
        XCTAssertEqual(try model.encode("world"), [108, 14, 240])
        XCTAssertEqual(try model.encode(""), [])
        // Runs of unknown characters merge into one <unk>.
        XCTAssertEqual(try model.encode("UPPER").filter { $0 == 2 }.count, 1)
        XCTAssertThrowsError(try SentencePieceModel(contentsOf: folder.appendingPathComponent("missing.model"))) {
            error in
            guard case TextEncoderError.tokenizerFile = error else { return XCTFail("\(error)") }
        }
    }

    func testTruncationPaddingAndMask() throws {
        let tokenizer = try T5Tokenizer(directory: folder, maxLength: 8)
        let long = try tokenizer.tokenize("a cat a cat a cat a cat a cat", preprocessing: .none)
        XCTAssertEqual(long.ids.count, 8)
        XCTAssertEqual(long.ids.last, 1, "the eos survives truncation")
        XCTAssertEqual(long.tokenCount, 8)
        XCTAssertTrue(long.wasTruncated)
        XCTAssertEqual(
            Array(long.ids.prefix(7)), Array(try tokenizer.pieces("a cat a cat a cat a cat a cat").prefix(7)))
        let short = try tokenizer.tokenize("a cat", preprocessing: .none)
        let pieces = try tokenizer.pieces("a cat")
        XCTAssertEqual(short.ids, pieces + [1] + Array(repeating: 0, count: 7 - pieces.count))
        XCTAssertEqual(
            short.attentionMask,
            Array(repeating: 1, count: pieces.count + 1) + Array(repeating: 0, count: 7 - pieces.count))
        XCTAssertFalse(short.wasTruncated)
        let empty = try tokenizer.tokenize("", preprocessing: .cleanCaption)
        XCTAssertEqual(empty.ids, [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(empty.tokenCount, 1)
        XCTAssertEqual(try T5Tokenizer(directory: folder).maxLength, 120)
    }

    func testSpecialTokensInRawTextAndSentinels() throws {
        let model = try SentencePieceModel(contentsOf: folder.appendingPathComponent("spiece.model"))
        let tokenizer = try T5Tokenizer(model: model, extraIDs: 100)
        XCTAssertEqual(tokenizer.specialTokens["<extra_id_0>"], 399)
        XCTAssertEqual(tokenizer.specialTokens["<extra_id_99>"], 300)
        XCTAssertEqual(tokenizer.specialTokens["</s>"], 1)
        // Each part between special tokens is encoded on its own (with its own dummy prefix).
        XCTAssertEqual(
            try tokenizer.pieces("hello</s>world"), (try model.encode("hello")) + [1] + (try model.encode("world")))
        XCTAssertEqual(try tokenizer.pieces("<extra_id_0>a<pad>"), [399] + (try model.encode("a")) + [0])
        // Cleaning strips tag-like strings first, as in the pipeline ("</s>" is an end tag).
        XCTAssertEqual(
            try tokenizer.tokenize("hello</s>world").ids, try tokenizer.tokenize("helloworld", preprocessing: .none).ids
        )
    }

    func testRelativePositionBucketsMatchTheSpecTable() {
        let expected: [(ClosedRange<Int>, Int)] = [
            (0...0, 0), (8...11, 8), (12...15, 9), (16...22, 10), (23...31, 11), (32...45, 12), (46...63, 13),
            (64...90, 14),
            (91...119, 15), (120...1000, 15),
        ]
        for (range, bucket) in expected {
            for d in range {
                XCTAssertEqual(RelativePositionBias.bucket(-d, numBuckets: 32, maxDistance: 128), bucket, "Δ = −\(d)")
                if d > 0 {
                    XCTAssertEqual(
                        RelativePositionBias.bucket(d, numBuckets: 32, maxDistance: 128), bucket + 16, "Δ = \(d)")
                }
            }
        }
        for d in 1...7 {
            XCTAssertEqual(RelativePositionBias.bucket(-d, numBuckets: 32, maxDistance: 128), d)
            XCTAssertEqual(RelativePositionBias.bucket(d, numBuckets: 32, maxDistance: 128), d + 16)
        }
    }
}

final class TokenizerFilesTests: XCTestCase {
    /// A tokenizer folder laid out like Latte-1's: 100 sentinels in tokenizer_config.json,
    /// added_tokens.json and the newer added_tokens_decoder, all agreeing.
    func testLatteStyleTokenizerFolder() throws {
        let source = Fixtures.suite("t2v").appendingPathComponent("model/tokenizer")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("spiece.model"), to: folder.appendingPathComponent("spiece.model"))
        let sentinels = (0..<100).map { "<extra_id_\($0)>" }
        let config: [String: Any] = [
            "eos_token": ["content": "</s>", "lstrip": false], "unk_token": "<unk>", "pad_token": "<pad>",
            "extra_ids": 100, "additional_special_tokens": sentinels,
            "added_tokens_decoder": ["0": ["content": "<pad>"], "399": ["content": "<extra_id_0>"]],
        ]
        try JSONSerialization.data(withJSONObject: config).write(
            to: folder.appendingPathComponent("tokenizer_config.json"))
        var added: [String: Int] = [:]
        for (k, s) in sentinels.enumerated() { added[s] = 399 - k }
        try JSONSerialization.data(withJSONObject: added).write(to: folder.appendingPathComponent("added_tokens.json"))
        let tokenizer = try T5Tokenizer(directory: folder)
        XCTAssertEqual(tokenizer.eosID, 1)
        XCTAssertEqual(tokenizer.padID, 0)
        XCTAssertEqual(tokenizer.specialTokens["<extra_id_0>"], 399)
        XCTAssertEqual(tokenizer.specialTokens["<extra_id_99>"], 300)
        XCTAssertEqual(try tokenizer.pieces("a<extra_id_1>"), (try tokenizer.model.encode("a")) + [398])

        try Data("{not json".utf8).write(to: folder.appendingPathComponent("added_tokens.json"))
        XCTAssertThrowsError(try T5Tokenizer(directory: folder)) { error in
            guard case TextEncoderError.tokenizerFile(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("added_tokens.json"))
        }
    }
}
