// The prompt-embedding cache: memory hits, disk hits from a fresh cache (a new process), keys
// that separate models, prompts and negatives, corrupt or foreign files treated as misses,
// atomic writes, and the prompt encoder's mask_feature truncation.

import Foundation
import TensorCore
import TestSupport
import TextEncoder
import XCTest

final class PromptEmbeddingCacheTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("t5-cache-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func embeddings(_ k: Int, _ seed: Float, negative: Bool = true) -> PromptEmbeddings {
        let c = Tensor(shape: [k, 3], values: (0..<(3 * k)).map { Float($0) * 0.5 + seed })
        let u = Tensor(shape: [k, 3], values: (0..<(3 * k)).map { -Float($0) + seed })
        return PromptEmbeddings(conditional: c, unconditional: negative ? u : nil)
    }

    func testMemoryAndDiskHits() throws {
        let request = PromptRequest(prompt: "a cat", negativePrompt: "blurry")
        let cache = PromptEmbeddingCache(directory: directory)
        var calls = 0
        let first = try cache.embeddings(for: request, model: "m1") { () throws(TextEncoderError) in
            calls += 1; return embeddings(4, 1)
        }
        let again = try cache.embeddings(for: request, model: "m1") { () throws(TextEncoderError) in
            calls += 1; return embeddings(4, 9)
        }
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(again.conditional.scalars, first.conditional.scalars)
        XCTAssertEqual(cache.computeCount, 1)

        let fresh = PromptEmbeddingCache(directory: directory)
        let fromDisk = try fresh.embeddings(for: request, model: "m1") { () throws(TextEncoderError) in
            calls += 1; return embeddings(4, 9)
        }
        XCTAssertEqual(calls, 1, "a new cache over the same folder reads the file")
        XCTAssertEqual(fromDisk.conditional.scalars, first.conditional.scalars)
        XCTAssertEqual(fromDisk.unconditional?.scalars, first.unconditional?.scalars)
        XCTAssertEqual(fromDisk.batch.shape, [2, 4, 3])
        XCTAssertEqual(Array(fromDisk.batch.scalars.prefix(12)), first.unconditional?.scalars, "unconditional first")

        // Other model, prompt, negative or preprocessing: misses.
        for (r, m) in [
            (request, "m2"), (PromptRequest(prompt: "a cat", negativePrompt: ""), "m1"),
            (PromptRequest(prompt: "a cat ", negativePrompt: "blurry"), "m1"),
            (PromptRequest(prompt: "a cat", negativePrompt: "blurry", preprocessing: .lowercase), "m1"),
            (PromptRequest(prompt: "a cat", negativePrompt: "blurry", withNegative: false), "m1"),
        ] {
            _ = try fresh.embeddings(for: r, model: m) { () throws(TextEncoderError) in
                calls += 1; return embeddings(2, 0, negative: r.withNegative)
            }
        }
        XCTAssertEqual(calls, 6)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(files.filter { $0.hasSuffix(".t5emb") }.count, 6)
        XCTAssertTrue(files.allSatisfy { !$0.hasSuffix(".tmp") }, "no temporary files left: \(files)")
        let noNegative = try PromptEmbeddingCache(directory: directory).embeddings(
            for: PromptRequest(prompt: "a cat", negativePrompt: "blurry", withNegative: false), model: "m1"
        ) { () throws(TextEncoderError) in
            XCTFail("should hit"); return embeddings(2, 0)
        }
        XCTAssertNil(noNegative.unconditional)
        XCTAssertEqual(noNegative.batch.shape, [1, 2, 3])
    }

    func testCorruptOrForeignFilesAreMisses() throws {
        let request = PromptRequest(prompt: "a dog")
        let key = PromptEmbeddingCache.key(for: request, model: "m")
        let file = directory.appendingPathComponent(PromptEmbeddingCache.fileName(forKey: key))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var calls = 0
        for content in [
            Data("garbage".utf8),
            Data("SKIPDIT-T5EMB 1\n{\"key\":\"other\",\"k\":1,\"d\":1,\"unconditional\":false}\n\0\0\0\0".utf8),
        ] {
            try content.write(to: file)
            let cache = PromptEmbeddingCache(directory: directory)
            let value = try cache.embeddings(for: request, model: "m") { () throws(TextEncoderError) in
                calls += 1; return embeddings(3, 2)
            }
            XCTAssertEqual(value.tokenCount, 3)
        }
        XCTAssertEqual(calls, 2)
        // The miss rewrote the file with a valid entry.
        let reread = try PromptEmbeddingCache(directory: directory).embeddings(for: request, model: "m") {
            () throws(TextEncoderError) in
            calls += 1
            return embeddings(1, 0)
        }
        XCTAssertEqual(calls, 2)
        XCTAssertEqual(reread.tokenCount, 3)
    }

    func testMemoryOnlyCacheAndCapacity() throws {
        let cache = PromptEmbeddingCache(directory: nil, memoryCapacity: 2)
        var calls = 0
        for prompt in ["a", "b", "a", "c", "a", "b"] {
            _ = try cache.embeddings(for: PromptRequest(prompt: prompt), model: "m") { () throws(TextEncoderError) in
                calls += 1
                return embeddings(1, 0)
            }
        }
        // a, b computed; a hit; c evicts b; a hit; b recomputed.
        XCTAssertEqual(calls, 4)
    }

    func testPromptEncoderKeepsThePromptsTokens() throws {
        let root = Fixtures.suite("t2v").appendingPathComponent("model")
        let tokenizer = try T5Tokenizer(directory: root.appendingPathComponent("tokenizer"))
        let encoder = try T5Encoder.load(
            folder: root.appendingPathComponent("text_encoder"),
            engine: try makeGEMMEngine(ComputeOptions(backend: .openblas)))
        let prompts = try T5PromptEncoder(tokenizer: tokenizer, encoder: encoder)
        let request = PromptRequest(prompt: "Two dogs playing with a ball on the beach.", negativePrompt: "")
        let result = try prompts.embeddings(for: request)
        let k = try tokenizer.tokenize(request.prompt).tokenCount
        XCTAssertEqual(result.tokenCount, k)
        XCTAssertEqual(result.conditional.shape, [k, 32])
        // Both rows equal the first K positions of the full 120-position encodes.
        let full = encoder.encode([try tokenizer.tokenize(request.prompt), try tokenizer.tokenize("")])
        let all = full.scalars
        XCTAssertEqual(result.conditional.scalars, Array(all[0..<(k * 32)]))
        XCTAssertEqual(result.unconditional?.scalars, Array(all[(120 * 32)..<(120 * 32 + k * 32)]))
        let cache = PromptEmbeddingCache(directory: directory)
        let cached = try prompts.embeddings(for: request, cache: cache)
        _ = try prompts.embeddings(for: request, cache: cache)
        XCTAssertEqual(cache.computeCount, 1)
        XCTAssertEqual(cached.conditional.scalars, result.conditional.scalars)
        XCTAssertTrue(prompts.identity.contains("openblas|fp32"))
    }
}

final class PromptEncoderPairingTests: XCTestCase {
    func testTokenizerMustFitTheEmbedding() throws {
        let root = Fixtures.suite("t2v").appendingPathComponent("model")
        let model = try SentencePieceModel(contentsOf: root.appendingPathComponent("tokenizer/spiece.model"))
        let encoder = try T5Encoder.load(
            folder: root.appendingPathComponent("text_encoder"),
            engine: try makeGEMMEngine(ComputeOptions(backend: .openblas)))
        // 300 pieces + 20 sentinels fit the 320 rows; 21 do not.
        XCTAssertNoThrow(try T5PromptEncoder(tokenizer: try T5Tokenizer(model: model, extraIDs: 20), encoder: encoder))
        XCTAssertThrowsError(
            try T5PromptEncoder(tokenizer: try T5Tokenizer(model: model, extraIDs: 21), encoder: encoder)
        ) {
            guard case TextEncoderError.config = $0 else { return XCTFail("\($0)") }
        }
    }
}
