// Loading the T5 encoder from the layouts transformers writes (single and sharded safetensors,
// fp32/fp16/bf16), both weight residencies, and strict errors for missing, extra or mis-shaped
// tensors and unsupported configs. The fixture's tiny fp32 encoder is rewritten into each layout.

import Checkpoints
import Foundation
import TensorCore
import TestSupport
import TextEncoder
import XCTest

final class T5LoadingTests: XCTestCase {
    private var temporary: URL!
    private let source = Fixtures.suite("t2v").appendingPathComponent("model/text_encoder")

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("t5-loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temporary) }

    private func engine(_ precision: Precision = .fp32) throws -> GEMMEngine {
        try makeGEMMEngine(ComputeOptions(backend: precision == .bf16 ? .onednn : .openblas, precision: precision))
    }

    /// The fixture's tensors (name → fp32 tensor), in file order.
    private func sourceTensors() throws -> [(String, Tensor)] {
        let dict = try Checkpoint.open(source.appendingPathComponent("model.safetensors")).stateDict()
        return try dict.names.map { name in
            guard let t = dict[name] else { throw XCTSkip("missing \(name)") }
            return (name, t.float32().copy())
        }
    }

    private func bits(_ t: Tensor, _ dtype: StoredDType) -> [UInt8] {
        var out: [UInt8] = []
        for v in t.scalars {
            switch dtype {
            case .bfloat16:
                let b = BFloat16.bits(v)
                out += [UInt8(b & 0xFF), UInt8(b >> 8)]
            case .float16:
                let b = Float16(v).bitPattern
                out += [UInt8(b & 0xFF), UInt8(b >> 8)]
            default:
                let b = v.bitPattern
                out += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
            }
        }
        return out
    }

    /// The value a tensor has after a round trip through `dtype`.
    private func rounded(_ t: Tensor, _ dtype: StoredDType) -> Tensor {
        Tensor(
            shape: t.shape,
            values: t.scalars.map {
                dtype == .bfloat16 ? BFloat16.rounded($0) : dtype == .float16 ? Float(Float16($0)) : $0
            })
    }

    /// Writes a model folder: config.json and the tensors in `dtype`, in `shards` files.
    @discardableResult
    private func writeFolder(
        _ name: String, dtype: StoredDType, shards: Int = 1, tensors: [(String, Tensor)]? = nil,
        config: String? = nil
    ) throws -> URL {
        let folder = temporary.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configText = try config ?? String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        try configText.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let all = try tensors ?? sourceTensors()
        let entries = all.map {
            SafeTensors.Entry(name: $0.0, dtype: dtype, shape: $0.1.shape, bytes: bits($0.1, dtype))
        }
        if shards == 1 {
            try SafeTensors.write(
                entries, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
            return folder
        }
        var weightMap: [String: String] = [:]
        for s in 0..<shards {
            let file = String(format: "model-%05d-of-%05d.safetensors", s + 1, shards)
            let part = entries.enumerated().filter { $0.offset % shards == s }.map(\.element)
            try SafeTensors.write(part, metadata: ["format": "pt"], to: folder.appendingPathComponent(file))
            for e in part { weightMap[e.name] = file }
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap])
        try index.write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        return folder
    }

    private let ids = [[4, 3, 118, 28, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
    private let masks = [[1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]]

    func testStoredDTypesAndShardsGiveIdenticalStates() throws {
        let e = try engine()
        for dtype in [StoredDType.bfloat16, .float16] {
            // The same values stored as fp32: conversion on load must be exact.
            let reference = try writeFolder(
                "ref-\(dtype)", dtype: .float32, tensors: sourceTensors().map { ($0.0, rounded($0.1, dtype)) })
            let expected = try T5Encoder.load(folder: reference, engine: e).encode(ids: ids, masks: masks)
            for shards in [1, 3] {
                let folder = try writeFolder("\(dtype)-\(shards)", dtype: dtype, shards: shards)
                for residency in T5WeightResidency.allCases {
                    let encoder = try T5Encoder.load(folder: folder, engine: e, residency: residency)
                    XCTAssertEqual(encoder.residency, residency)
                    let got = encoder.encode(ids: ids, masks: masks)
                    XCTAssertEqual(got.shape, [2, 10, 32])
                    XCTAssertEqual(got.scalars, expected.scalars, "\(dtype), \(shards) shard(s), \(residency)")
                }
                XCTAssertEqual(
                    try T5Encoder.load(folder: folder, engine: e).residency, .streamed,
                    "fp32 compute from \(dtype) streams")
            }
        }
        XCTAssertEqual(try T5Encoder.load(folder: source, engine: e).residency, .resident)
    }

    func testBF16ComputeIsCloseButNotExact() throws {
        let bf16: GEMMEngine
        do { bf16 = try engine(.bf16) } catch { throw XCTSkip("no bf16 GEMM here: \(error)") }
        let reference = try T5Encoder.load(folder: source, engine: try engine()).encode(ids: ids, masks: masks).scalars
        let encoder = try T5Encoder.load(folder: source, engine: bf16)
        XCTAssertEqual(encoder.residency, .resident)
        let got = encoder.encode(ids: ids, masks: masks).scalars
        let scale = reference.map { abs(Double($0)) }.max() ?? 1
        let error = zip(got, reference).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        XCTAssertGreaterThan(error, 0, "bf16 arithmetic should differ from fp32")
        XCTAssertLessThan(error / scale, 5e-2)
    }

    func testTiedEmbeddingNameAndDecoderTensorsAreAccepted() throws {
        var tensors = try sourceTensors()
        tensors = tensors.map { $0.0 == "shared.weight" ? ("encoder.embed_tokens.weight", $0.1) : $0 }
        tensors.append(("decoder.block.0.layer.0.SelfAttention.q.weight", Tensor(zeros: [32, 32])))
        tensors.append(("lm_head.weight", Tensor(zeros: [320, 32])))
        let folder = try writeFolder("tied", dtype: .float32, tensors: tensors)
        let e = try engine()
        let got = try T5Encoder.load(folder: folder, engine: e).encode(ids: ids, masks: masks)
        let expected = try T5Encoder.load(folder: source, engine: e).encode(ids: ids, masks: masks)
        XCTAssertEqual(got.scalars, expected.scalars)
    }

    private func assertWeightsError(
        _ folder: URL, mentions text: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertThrowsError(try T5Encoder.load(folder: folder, engine: try engine()), file: file, line: line) {
            error in
            guard case TextEncoderError.weights = error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue("\(error)".contains(text), "\(error) does not mention \(text)", file: file, line: line)
        }
    }

    func testStrictLoading() throws {
        let all = try sourceTensors()
        let missing = try writeFolder(
            "missing", dtype: .float32,
            tensors: all.filter { $0.0 != "encoder.block.1.layer.1.DenseReluDense.wo.weight" })
        try assertWeightsError(missing, mentions: "encoder.block.1.layer.1.DenseReluDense.wo.weight")
        let extra = try writeFolder(
            "extra", dtype: .float32,
            tensors: all + [("encoder.block.0.layer.0.SelfAttention.q.bias", Tensor(zeros: [32]))])
        try assertWeightsError(extra, mentions: "encoder.block.0.layer.0.SelfAttention.q.bias")
        let misshapen = try writeFolder(
            "misshapen", dtype: .float32,
            tensors: all.map {
                $0.0 == "encoder.block.0.layer.1.DenseReluDense.wi_1.weight" ? ($0.0, Tensor(zeros: [63, 32])) : $0
            })
        try assertWeightsError(misshapen, mentions: "wi_1")
        let int8 = try writeFolder("int", dtype: .float32, tensors: all)
        try SafeTensors.write(
            all.map {
                SafeTensors.Entry(
                    name: $0.0, dtype: .int8, shape: $0.1.shape, bytes: [UInt8](repeating: 0, count: $0.1.count))
            },
            to: int8.appendingPathComponent("model.safetensors"))
        try assertWeightsError(int8, mentions: "int8")
    }

    func testConfigValidation() throws {
        let text = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        let relu = try writeFolder(
            "relu", dtype: .float32, config: text.replacingOccurrences(of: "\"gated-gelu\"", with: "\"relu\""))
        XCTAssertThrowsError(try T5Encoder.load(folder: relu, engine: try engine())) { error in
            guard case TextEncoderError.config = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("feed_forward_proj"))
        }
        let config = try T5Config.load(source.appendingPathComponent("config.json"))
        XCTAssertEqual(config.dModel, 32)
        XCTAssertEqual(config.numHeads, 4)
        XCTAssertEqual(config.innerDim, 32)
        XCTAssertEqual(config.relativeAttentionMaxDistance, 128)
        XCTAssertEqual(T5Config.xxl.parameterCount, 4_762_310_656, "the spec's count for t5-v1_1-xxl")
        // 2 × 120 tokens ≈ 2.2 TFLOP (spec section 8).
        XCTAssertEqual(T5Config.xxl.flops(batch: 2, tokens: 120) / 1e12, 2.2, accuracy: 0.05)
    }
}

final class T5SyntheticTests: XCTestCase {
    func testSyntheticEncoderRunsAtAnySize() throws {
        let config = T5Config(dModel: 64, dKV: 16, numHeads: 4, dFF: 96, numLayers: 3, vocabSize: 50)
        let engine = try makeGEMMEngine(ComputeOptions(backend: .openblas))
        let a = try T5Encoder.synthetic(config: config, engine: engine, seed: 1)
        let b = try T5Encoder.synthetic(config: config, engine: engine, seed: 1)
        let ids = [Array(0..<12)], masks = [Array(repeating: 1, count: 12)]
        let x = a.encode(ids: ids, masks: masks)
        XCTAssertEqual(x.shape, [1, 12, 64])
        XCTAssertTrue(x.scalars.allSatisfy(\.isFinite))
        XCTAssertEqual(x.scalars, b.encode(ids: ids, masks: masks).scalars, "deterministic in the seed")
        XCTAssertNotEqual(
            x.scalars,
            try T5Encoder.synthetic(config: config, engine: engine, seed: 2).encode(ids: ids, masks: masks).scalars)
    }
}
