// Every checkpoint in the golden fixtures is read and checked against its manifest: names, order,
// shapes and containers for c2v (.pt with "ema" and with "model"), t2v (base folder, T5 folder and
// Latte-skip.pt), and the three VAE variants (which hold identical tensors under different names and
// formats) plus the temporal VAE. Also a sharded safetensors index and a sharded .bin index made here.

import Checkpoints
import Foundation
import TensorCore
import TestSupport
import XCTest

final class FixtureCheckpointTests: XCTestCase {
    private func manifest(_ suite: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.suite(suite).appendingPathComponent("manifest.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Ordered (name, shape) pairs from a manifest object, in the manifest's (file) order.
    private func orderedShapes(_ suite: String, path: [String]) throws -> [(String, [Int])] {
        // JSONSerialization loses key order, so read the raw text for the order.
        let text = try String(
            contentsOf: Fixtures.suite(suite).appendingPathComponent("manifest.json"), encoding: .utf8)
        var object: Any = try manifest(suite)
        for key in path { object = try XCTUnwrap((object as? [String: Any])?[key], "manifest lacks \(path)") }
        if let pairs = object as? [[Any]] {  // [[name, shape], …] is already ordered
            return try pairs.map { pair in
                (try XCTUnwrap(pair.first as? String), try XCTUnwrap(pair.last as? [Int]))
            }
        }
        let map = try XCTUnwrap(object as? [String: [Int]])
        let order = try keysInOrder(of: path.last ?? "", in: Array(text.utf8))
        XCTAssertEqual(Set(order), Set(map.keys), "key scan of \(path)")
        return order.compactMap { name in map[name].map { (name, $0) } }
    }

    /// The keys of the JSON object that follows `"key":` in `text`, in file order (a tiny scanner;
    /// the manifest's escapes never occur in tensor names).
    private func keysInOrder(of key: String, in text: [UInt8]) throws -> [String] {
        let anchor = Array("\"\(key)\":".utf8)
        var i = try XCTUnwrap(
            (0...(text.count - anchor.count)).first { text[$0..<$0 + anchor.count].elementsEqual(anchor) })
        i += anchor.count
        var depth = 0
        var keys: [String] = []
        while i < text.count {
            switch text[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return keys }
            case UInt8(ascii: "\""):
                var j = i + 1
                while text[j] != UInt8(ascii: "\"") { j += text[j] == UInt8(ascii: "\\") ? 2 : 1 }
                var k = j + 1
                while text[k] == UInt8(ascii: " ") { k += 1 }
                if depth == 1, text[k] == UInt8(ascii: ":") {
                    keys.append(String(decoding: text[(i + 1)..<j], as: UTF8.self))
                }
                i = j
            default: break
            }
            i += 1
        }
        return keys
    }

    private func assertMatches(
        _ dict: StateDict, _ expected: [(String, [Int])], ordered: Bool, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(dict.count, expected.count, "tensor count of \(dict.path)", file: file, line: line)
        if ordered {
            XCTAssertEqual(dict.names, expected.map(\.0), "names/order of \(dict.path)", file: file, line: line)
        } else {
            XCTAssertEqual(Set(dict.names), Set(expected.map(\.0)), "names of \(dict.path)", file: file, line: line)
        }
        for (name, shape) in expected {
            XCTAssertEqual(dict[name]?.shape, shape, "shape of \(name)", file: file, line: line)
            XCTAssertEqual(dict[name]?.dtype, .float32, "dtype of \(name)", file: file, line: line)
        }
    }

    func testClassToVideoCheckpointsEmaAndModel() throws {
        let m = try manifest("c2v")
        let models = try XCTUnwrap(m["models"] as? [String: [String: Any]])
        XCTAssertEqual(Set(models.keys), ["cond", "uncond"])
        var wrappers: Set<String> = []
        for (key, model) in models.sorted(by: { $0.key < $1.key }) {
            let file = try XCTUnwrap(model["checkpoint"] as? String)
            let ckpt = try Checkpoint.open(Fixtures.suite("c2v").appendingPathComponent(file))
            XCTAssertEqual(ckpt.format, .torchZip)
            guard case .dict(let top) = ckpt.root else { return XCTFail("\(file): root is not a dict") }
            XCTAssertEqual(top.keys.count, 1)
            wrappers.formUnion(top.keys)
            let container = try XCTUnwrap(model["container"] as? String)
            XCTAssertTrue(container.contains("{'\(top.keys[0])': state_dict}"), "\(file) wraps under \(top.keys)")
            let sd = try ckpt.stateDict(preferring: ["ema", "model"])
            let expected = try orderedShapes("c2v", path: ["models", key, "state_dict_keys"])
            XCTAssertEqual(expected.count, model["num_tensors"] as? Int)
            assertMatches(sd, expected, ordered: true)
            XCTAssertEqual(sd.tensors.values.reduce(0) { $0 + $1.count }, model["num_params"] as? Int)
            // Bare-state-dict rule: the official c2v loader needs a wrapper; the flat reading is an error.
            XCTAssertThrowsError(try ckpt.stateDict())

            // Strict load of every tensor with the manifest's shapes; all are used; all are zero-copy.
            let store = try WeightStore(sd)
            for (name, shape) in expected {
                let t = try store.tensor(name, shape: shape)
                XCTAssertFalse(t.storage.isWritable, "\(name) should borrow the mapping")
                XCTAssertTrue(t.scalars.allSatisfy(\.isFinite), name)
            }
            try store.requireAllUsed()

            // temp_embed is the fixed 1-D sin-cos table (spec 4.3): an independent check of the bytes.
            let config = try XCTUnwrap(model["config"] as? [String: Any])
            let d = try XCTUnwrap(config["hidden_size"] as? Int)
            let frames = try XCTUnwrap(config["num_frames"] as? Int)
            let temp = try store.tensor("temp_embed", shape: [1, frames, d])
            var worst = 0.0
            for f in 0..<frames {
                for k in 0..<d / 2 {
                    let u = pow(10000.0, -Double(k) / Double(d / 2))
                    worst = max(worst, abs(Double(temp[flat: f * d + k]) - sin(Double(f) * u)))
                    worst = max(worst, abs(Double(temp[flat: f * d + d / 2 + k]) - cos(Double(f) * u)))
                }
            }
            XCTAssertLessThan(worst, 1e-6, "temp_embed of \(file)")
        }
        XCTAssertEqual(wrappers, ["ema", "model"], "the fixtures exercise both wrapper keys")
    }

    func testTextToVideoFoldersAndSkipCheckpoint() throws {
        let root = Fixtures.suite("t2v")
        let base = try Checkpoint.open(root.appendingPathComponent("model/transformer"))  // folder detection
        XCTAssertEqual(base.format, .safetensors)
        assertMatches(
            try base.stateDict(), try orderedShapes("t2v", path: ["tensor_names", "transformer_base_safetensors"]),
            ordered: false)

        let t5 = try Checkpoint.open(root.appendingPathComponent("model/text_encoder"))
        XCTAssertEqual(t5.metadata["format"], "pt")
        assertMatches(
            try t5.stateDict(), try orderedShapes("t2v", path: ["tensor_names", "text_encoder_safetensors"]),
            ordered: false)

        let skip = try Checkpoint.open(root.appendingPathComponent("skip/Latte-skip.pt"))
        guard case .dict(let top) = skip.root else { return XCTFail("Latte-skip.pt root is not a dict") }
        XCTAssertEqual(Set(top.keys), ["model", "ema"])
        let ema = try skip.stateDict(preferring: ["ema", "model"])
        let expected = try orderedShapes("t2v", path: ["tensor_names", "skip_checkpoint_ema"])
        assertMatches(ema, expected, ordered: true)
        let model = try skip.stateDict(preferring: ["model"])
        XCTAssertEqual(Set(model.names), Set(ema.names))
        // "model" holds different random weights on purpose: make sure we did not read the same storage twice.
        let name = try XCTUnwrap(expected.first { $0.1.count == 2 }?.0)
        XCTAssertNotEqual(ema[name]?.float32().scalars, model[name]?.float32().scalars)
        // The skip checkpoint overrides the base weights, and adds the skip_* tensors the base lacks.
        let baseNames = Set(try base.stateDict().names)
        XCTAssertTrue(baseNames.isSubset(of: Set(ema.names)))
        XCTAssertTrue(ema.names.contains { !baseNames.contains($0) && $0.hasPrefix("skip") })
    }

    /// Legacy (pre-0.14 diffusers) attention names -> current names.
    static func legacyVAEName(_ name: String) -> String {
        for (old, new) in [
            (".query.", ".to_q."), (".key.", ".to_k."), (".value.", ".to_v."), (".proj_attn.", ".to_out.0."),
        ] {
            if name.contains(old) { return name.replacingOccurrences(of: old, with: new) }
        }
        return name
    }

    /// Original LDM names -> current diffusers names (spec vae-decoder.md §"Older names"), 4 up blocks.
    static func ldmVAEName(_ name: String) -> String? {
        let stripped = name.hasPrefix("first_stage_model.") ? String(name.dropFirst(18)) : name
        var parts = stripped.split(separator: ".").map(String.init)
        guard parts.count >= 2, parts[0] == "decoder" || parts[0] == "encoder" else { return stripped }
        if parts[0] == "encoder" { return nil }  // the decoder-only comparison ignores the encoder
        let rest = parts.dropFirst().joined(separator: ".")
        let simple: [(String, String)] = [
            ("norm_out.", "conv_norm_out."), ("mid.block_1.", "mid_block.resnets.0."),
            ("mid.block_2.", "mid_block.resnets.1."),
            ("mid.attn_1.norm.", "mid_block.attentions.0.group_norm."),
            ("mid.attn_1.q.", "mid_block.attentions.0.to_q."),
            ("mid.attn_1.k.", "mid_block.attentions.0.to_k."), ("mid.attn_1.v.", "mid_block.attentions.0.to_v."),
            ("mid.attn_1.proj_out.", "mid_block.attentions.0.to_out.0."),
        ]
        for (old, new) in simple where rest.hasPrefix(old) { return "decoder." + new + rest.dropFirst(old.count) }
        if parts[1] == "up", parts.count >= 5, let level = Int(parts[2]) {
            let i = 3 - level
            if parts[3] == "block", let j = Int(parts[4]) {
                parts = Array(parts[5...])
                let tail = parts.joined(separator: ".").replacingOccurrences(of: "nin_shortcut", with: "conv_shortcut")
                return "decoder.up_blocks.\(i).resnets.\(j).\(tail)"
            }
            if parts[3] == "upsample" {
                return "decoder.up_blocks.\(i).upsamplers.0." + parts[4...].joined(separator: ".")
            }
        }
        return stripped
    }

    func testThreeVAEVariantsHoldIdenticalTensors() throws {
        let root = Fixtures.suite("vae").appendingPathComponent("model")
        let reference = try Checkpoint.open(root.appendingPathComponent("diffusers_safetensors")).stateDict()
        let legacyFile = try Checkpoint.open(root.appendingPathComponent("legacy_bin"))
        XCTAssertEqual(legacyFile.format, .torchZip)
        let legacy = try WeightStore(legacyFile.stateDict(), rename: Self.legacyVAEName)
        let ldm = try WeightStore(
            Checkpoint.open(root.appendingPathComponent("ldm_safetensors/vae.safetensors")).stateDict(),
            rename: Self.ldmVAEName)
        XCTAssertEqual(reference.count, 248)
        var decoderTensors = 0
        for name in reference.names {
            let expected = try XCTUnwrap(reference[name]).float32()
            let fromLegacy = try legacy.tensor(name, shape: expected.shape)
            XCTAssertEqual(fromLegacy.scalars, expected.scalars, "legacy .bin \(name)")
            guard name.hasPrefix("decoder.") || name.hasPrefix("post_quant_conv.") else { continue }
            decoderTensors += 1
            let fromLDM = try ldm.tensor(name, shape: expected.shape, acceptingTrailingOnes: true)
            XCTAssertEqual(fromLDM.scalars, expected.scalars, "LDM \(name)")
        }
        try legacy.requireAllUsed()
        ldm.ignore(prefix: "quant_conv.")
        try ldm.requireAllUsed()
        XCTAssertGreaterThan(decoderTensors, 100)
    }

    func testTemporalVAEMatchesManifestCounts() throws {
        let m = try manifest("vae-temporal")
        let checks = try XCTUnwrap(m["checks_done_at_generation"] as? [String: Any])
        let sd = try Checkpoint.open(Fixtures.suite("vae-temporal").appendingPathComponent("model")).stateDict()
        XCTAssertEqual(sd.count, checks["safetensors_n_tensors"] as? Int)
        XCTAssertEqual(
            sd.names.filter { $0.hasPrefix("decoder.") }.count, checks["safetensors_n_decoder_tensors"] as? Int)
        XCTAssertEqual(
            Set(sd.tensors.values.map { $0.dtype == .float32 ? "F32" : "other" }),
            Set(checks["safetensors_dtypes"] as? [String] ?? []))
        // mix_factor values listed in the manifest match the stored scalars.
        let mix = try XCTUnwrap(m["mix_factors"] as? [String: Double])
        let store = try WeightStore(sd)
        for (name, value) in mix {
            let t = try store.tensor(name)
            XCTAssertEqual(t.count, 1)
            XCTAssertEqual(Double(t[flat: 0]), value, accuracy: 1e-7, name)
        }
    }

    func testShardedSafetensorsAndBinIndexes() throws {
        let single = try Checkpoint.open(Fixtures.suite("t2v").appendingPathComponent("model/text_encoder")).stateDict()
        let folder = TorchFileWriter.temporaryURL("shards")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let half = single.names.count / 2
        let shards = [Array(single.names[..<half]), Array(single.names[half...])]

        // safetensors shards + model.safetensors.index.json
        var weightMap: [String: String] = [:]
        for (i, names) in shards.enumerated() {
            let file = "model-0000\(i + 1)-of-00002.safetensors"
            try SafeTensors.write(
                names.compactMap { single[$0] }.map { SafeTensors.Entry($0) }, metadata: ["format": "pt"],
                to: folder.appendingPathComponent(file))
            for n in names { weightMap[n] = file }
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap])
        try index.write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        let sharded = try Checkpoint.open(folder)
        XCTAssertEqual(sharded.format, .sharded)
        try assertSameTensors(try sharded.stateDict(), single)

        // .bin shards + pytorch_model.bin.index.json, with the safetensors files gone.
        for f in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(f))
        }
        weightMap = [:]
        for (i, names) in shards.enumerated() {
            let file = "pytorch_model-0000\(i + 1)-of-00002.bin"
            var storages: [String: FakeStorage] = [:]
            var tensors: [(String, FakeTensor)] = []
            for (k, n) in names.enumerated() {
                let t = try XCTUnwrap(single[n])
                storages[String(k)] = FakeStorage(
                    className: "FloatStorage", elementSize: 4, bytes: TorchFileWriter.f32(t.float32().scalars))
                tensors.append(
                    (
                        n,
                        FakeTensor(
                            storage: String(k), offset: 0, shape: t.shape,
                            strides: StoredTensor.contiguousStrides(t.shape))
                    ))
                weightMap[n] = file
            }
            let pickle = TorchFileWriter.pickle([(nil, tensors)], storages: storages)
            try Data(TorchFileWriter.archive(top: "archive", pickle: pickle, storages: storages)).write(
                to: folder.appendingPathComponent(file))
        }
        try JSONSerialization.data(withJSONObject: ["weight_map": weightMap]).write(
            to: folder.appendingPathComponent("pytorch_model.bin.index.json"))
        try assertSameTensors(try Checkpoint.open(folder).stateDict(), single)

        // An index naming a tensor its shard lacks is an error naming it.
        weightMap["not.there"] = "pytorch_model-00001-of-00002.bin"
        try JSONSerialization.data(withJSONObject: ["weight_map": weightMap]).write(
            to: folder.appendingPathComponent("pytorch_model.bin.index.json"))
        XCTAssertThrowsError(try Checkpoint.open(folder)) { XCTAssertTrue("\($0)".contains("not.there"), "\($0)") }
    }

    private func assertSameTensors(_ a: StateDict, _ b: StateDict, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        XCTAssertEqual(Set(a.names), Set(b.names), file: file, line: line)
        for n in b.names {
            let x = try XCTUnwrap(a[n]), y = try XCTUnwrap(b[n])
            XCTAssertEqual(x.shape, y.shape, n, file: file, line: line)
            XCTAssertEqual(x.float32().scalars, y.float32().scalars, n, file: file, line: line)
        }
    }
}
