// The text-to-video tokenizer: SentencePiece model files (through the CSentencePiece wrapper and
// Debian's libsentencepiece), the transformers JSON files next to them (tokenizer_config.json,
// special_tokens_map.json, added_tokens.json), and prompts (the official caption cleaning, then
// T5Tokenizer) with the fixture tokenizer.

import Foundation
import TextEncoder

enum FuzzTokenizer {
    static let texts = [
        "a dog surfing a wave at sunset", "", " ", "<extra_id_0> </s> <pad> <unk>", "ünïcödé 文字 🙂\u{0}\t\n",
    ]

    /// A spiece.model file: loaded, its vocabulary queried, texts encoded, and a T5Tokenizer built on it.
    static func model(_ bytes: UnsafeRawBufferPointer) {
        let url = FuzzFiles.write(bytes, "spiece.model")
        do {
            let model = try SentencePieceModel(contentsOf: url)
            for id in [-1, 0, 1, 2, 3, model.pieceCount - 1, model.pieceCount, Int(Int32.max) + 1] {
                _ = model.piece(ofID: id)
                _ = model.isControl(id)
            }
            _ = (model.unknownID, model.endOfSequenceID, model.beginningOfSequenceID, model.paddingID)
            for text in texts { _ = try? model.encode(text) }
            let tokenizer = try T5Tokenizer(model: model, extraIDs: 3, maxLength: 16)
            for text in texts { _ = try? tokenizer.tokenize(text, preprocessing: .none) }
        } catch {
            _ = error.description
        }
    }

    /// One of the JSON files of a tokenizer folder (the first byte picks which), with a small valid
    /// spiece.model next to it.
    static func config(_ bytes: UnsafeRawBufferPointer) {
        let names = ["tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"]
        let (selector, rest) = selectorAndRest(bytes)
        let folder = FuzzFiles.makeFolder("tokenizer")
        let chosen = names[Int(selector) % names.count]
        for name in names where name != chosen { FuzzFiles.remove("tokenizer/" + name) }
        FuzzFiles.write(rest, "tokenizer/" + chosen)
        if !FileManager.default.fileExists(atPath: folder.appendingPathComponent("spiece.model").path) {
            FuzzFiles.write(TinySentencePiece.model, "tokenizer/spiece.model")
        }
        do {
            let tokenizer = try T5Tokenizer(directory: folder, maxLength: 16)
            for text in texts { _ = try? tokenizer.tokenize(text, preprocessing: .none) }
            _ = tokenizer.specialTokens.count
        } catch {
            _ = error.description
        }
    }

    /// The fixture tokenizer (real T5 normalization), loaded once.
    private static let fixture: T5Tokenizer = {
        let path =
            ProcessInfo.processInfo.environment["SKIPDIT_FUZZ_TOKENIZER"] ?? "Tests/Fixtures/t2v/model/tokenizer"
        do { return try T5Tokenizer(directory: URL(fileURLWithPath: path, isDirectory: true)) } catch {
            fputs("skipdit-fuzz: prompt target needs a tokenizer folder (SKIPDIT_FUZZ_TOKENIZER): \(error)\n", stderr)
            exit(2)
        }
    }()

    /// A prompt as a job file gives it: each preprocessing, then tokenization.
    static func prompt(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        for preprocessing in PromptPreprocessing.allCases {
            do {
                let t = try fixture.tokenize(text, preprocessing: preprocessing)
                guard t.ids.count == fixture.maxLength, t.attentionMask.count == fixture.maxLength else {
                    fputs("tokenized prompt has \(t.ids.count) ids for max length \(fixture.maxLength)\n", stderr)
                    abort()
                }
            } catch {
                _ = error.description
            }
        }
    }
}

/// A SentencePiece ModelProto written by hand: a unigram model with a few pieces and the identity
/// normalizer, so loading it costs microseconds (the tokenizer-config driver loads it every run).
enum TinySentencePiece {
    static let model: [UInt8] = {
        var out: [UInt8] = []
        func varint(_ v: UInt64, _ into: inout [UInt8]) {
            var v = v
            while v >= 0x80 {
                into.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            into.append(UInt8(v))
        }
        func field(_ number: UInt64, bytes: [UInt8], _ into: inout [UInt8]) {
            varint(number << 3 | 2, &into)
            varint(UInt64(bytes.count), &into)
            into += bytes
        }
        func field(_ number: UInt64, int: UInt64, _ into: inout [UInt8]) {
            varint(number << 3, &into)
            varint(int, &into)
        }
        // pieces: (piece, score, type) with type 1 normal, 2 unknown, 3 control.
        let pieces: [(String, Float, UInt64)] = [
            ("<pad>", 0, 3), ("</s>", 0, 3), ("<unk>", 0, 2), ("\u{2581}", -2, 1), ("\u{2581}a", -3, 1),
            ("\u{2581}dog", -4, 1), ("s", -3, 1), ("e", -3, 1), ("a", -3, 1), ("o", -3, 1), ("d", -3, 1),
            ("g", -3, 1), ("t", -3, 1), ("n", -3, 1), ("\u{2581}the", -4, 1), ("ing", -4, 1),
        ]
        for (piece, score, type) in pieces {
            var p: [UInt8] = []
            field(1, bytes: Array(piece.utf8), &p)
            varint(2 << 3 | 5, &p)
            withUnsafeBytes(of: score.bitPattern.littleEndian) { p += $0 }
            field(3, int: type, &p)
            field(1, bytes: p, &out)
        }
        var trainer: [UInt8] = []
        field(3, int: 1, &trainer)  // model_type: UNIGRAM
        field(4, int: UInt64(pieces.count), &trainer)  // vocab_size
        field(40, int: 2, &trainer)  // unk_id
        field(41, int: UInt64(bitPattern: -1), &trainer)  // bos_id: none
        field(42, int: 1, &trainer)  // eos_id
        field(43, int: 0, &trainer)  // pad_id
        field(2, bytes: trainer, &out)
        var normalizer: [UInt8] = []
        field(1, bytes: Array("identity".utf8), &normalizer)
        field(3, int: 1, &normalizer)  // add_dummy_prefix
        field(4, int: 1, &normalizer)  // remove_extra_whitespaces
        field(5, int: 1, &normalizer)  // escape_whitespaces
        field(3, bytes: normalizer, &out)
        return out
    }()
}
