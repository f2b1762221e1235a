// A VAE given as one weights file without config.json: its configuration inferred from tensor names
// and shapes (AutoencoderKLConfig+Inferred.swift, as diffusers' single-file loader builds it) on the
// golden fixture's files, driven by its manifest; prefixed (full SD checkpoint) and bare names; the
// config.json beside a file winning over inference; loading and decoding through the inferred path;
// and errors that name the missing or odd tensor. Modified files are written with the project's
// own safetensors writer into a temporary folder.

import Checkpoints
import Foundation
import TensorCore
import TestSupport
import VAE
import XCTest

final class InferredConfigTests: XCTestCase {
    let suite = Fixtures.suite("vae")
    /// A fresh folder per test (XCTest makes one instance per test method).
    private let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
        "vae-inferred-\(UUID().uuidString)")

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// The manifest's model variants: weights file and, when the variant has one, its config.json.
    private func variants() throws -> [(name: String, weights: URL, config: URL?)] {
        let data = try Data(contentsOf: suite.appendingPathComponent("manifest.json"))
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let table = try XCTUnwrap(manifest["model_variants"] as? [String: Any])
        var found: [(String, URL, URL?)] = []
        for (name, value) in table.sorted(by: { $0.key < $1.key }) {
            guard let v = value as? [String: Any], let dir = v["dir"] as? String, let w = v["weights"] as? String,
                let file = w.split(separator: " ").first
            else { continue }  // "note"
            let folder = suite.appendingPathComponent(dir)
            let config = folder.appendingPathComponent("config.json")
            found.append(
                (
                    name, folder.appendingPathComponent(String(file)),
                    FileManager.default.fileExists(atPath: config.path) ? config : nil
                ))
        }
        XCTAssertGreaterThanOrEqual(found.count, 3)
        return found
    }

    /// The LDM-named variant's weights (the one without config.json).
    private func ldmWeights() throws -> URL {
        try XCTUnwrap(variants().first { $0.config == nil }?.weights, "the manifest has a config-less variant")
    }

    /// Writes the tensors of `source` renamed by `rename` (nil drops a tensor), plus `extra`.
    private func rewrite(
        _ source: URL, to name: String, extra: [SafeTensors.Entry] = [], rename: (String) -> String?
    ) throws -> URL {
        let dict = try Checkpoint.open(source).stateDict()
        var entries: [SafeTensors.Entry] = []
        for n in dict.names {
            guard let stored = dict[n], let new = rename(n) else { continue }
            entries.append(SafeTensors.Entry(stored, name: new))
        }
        let url = scratch.appendingPathComponent(name)
        try SafeTensors.write(entries + extra, to: url)
        return url
    }

    /// Every variant's weights, read without a config, describe the config.json of each variant
    /// that has one (identical tensors; norm_num_groups is the one value no tensor records).
    func testInferenceOnTheFixturesEqualsTheirConfigJSON() throws {
        let all = try variants()
        for reference in all {
            guard let configURL = reference.config else { continue }
            let expected = try AutoencoderKLConfig.load(configURL)
            for v in all {
                let inferred = try AutoencoderKLConfig.inferred(
                    weights: v.weights, normNumGroups: expected.normNumGroups)
                XCTAssertEqual(inferred, expected, "\(v.name) against \(reference.name)'s config.json")
            }
        }
        for v in all {
            let source = VAEWeights.configSource(for: v.weights)
            XCTAssertEqual(source, v.config.map { VAEWeights.ConfigSource.file($0) } ?? .inferredFromShapes, v.name)
        }
    }

    /// A full SD checkpoint's `first_stage_model.` names (among UNet and text-encoder tensors) and the
    /// bare LDM names give the same configuration, and the prefixed file decodes like the folder.
    func testPrefixedAndBareLDMNames() throws {
        let ldm = try ldmWeights()
        let other = [
            SafeTensors.Entry(name: "model.diffusion_model.out.2.weight", tensor: Tensor(zeros: [4, 320, 3, 3])),
            SafeTensors.Entry(name: "cond_stage_model.transformer.final_layer_norm.weight", tensor: Tensor(zeros: [8])),
        ]
        let full = try rewrite(ldm, to: "sd-full.safetensors", extra: other) { "first_stage_model." + $0 }
        let bare = try AutoencoderKLConfig.inferred(weights: ldm, normNumGroups: 4)
        XCTAssertEqual(try AutoencoderKLConfig.inferred(weights: full, normNumGroups: 4), bare)
        XCTAssertEqual(bare.blockOutChannels.count, bare.upBlockTypes.count)
        XCTAssertEqual(bare.scalingFactor, AutoencoderKLConfig.defaultScalingFactor)

        let engine = try OpenBLASEngine()
        let folder = try XCTUnwrap(try variants().first { $0.config != nil }?.config).deletingLastPathComponent()
        let reference = try VAEDecoder(directory: folder, engine: engine)
        let decoder = try VAEDecoder(weights: full, config: bare, engine: engine)
        XCTAssertEqual(decoder.naming, .ldm)
        let z = Tensor(
            shape: [bare.latentChannels, 2, 3], values: (0..<(bare.latentChannels * 6)).map { sin(Float($0)) })
        XCTAssertEqual(decoder.decodeFrame(z).scalars, reference.decodeFrame(z).scalars)
    }

    /// Without a config the group count is diffusers' default 32, which the fixture's widths
    /// [8, 16, …] do not allow: a clear error, also through `VAEDecoder(contentsOf:)`; a config.json
    /// beside the file is used instead of inference.
    func testDefaultGroupCountAndConfigBesideTheFile() throws {
        let ldm = try ldmWeights()
        let engine = try OpenBLASEngine()
        for attempt in [
            { () throws -> Void in _ = try AutoencoderKLConfig.inferred(weights: ldm) },
            { () throws -> Void in _ = try VAEDecoder(contentsOf: ldm, engine: engine) },
        ] {
            XCTAssertThrowsError(try attempt()) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("norm_num_groups 32") && text.contains("config.json"), text)
            }
        }
        let beside = scratch.appendingPathComponent("vae.safetensors")
        try FileManager.default.copyItem(at: ldm, to: beside)
        let config = try XCTUnwrap(try variants().first { $0.config != nil }?.config)
        try FileManager.default.copyItem(at: config, to: scratch.appendingPathComponent("config.json"))
        XCTAssertEqual(VAEWeights.configSource(for: beside), .file(scratch.appendingPathComponent("config.json")))
        let decoder = try VAEDecoder(contentsOf: beside, engine: engine)
        XCTAssertEqual(decoder.config, try AutoencoderKLConfig.load(config))
    }

    /// End to end with diffusers' defaults: a small LDM-named file whose widths 32 divides, in a full
    /// checkpoint's layout, loads through `VAEDecoder(contentsOf:)` with the inferred configuration and
    /// decodes exactly as with that configuration given explicitly.
    func testSingleFileLoadsWithDefaultsEndToEnd() throws {
        let expected = AutoencoderKLConfig(
            blockOutChannels: [32, 64], layersPerBlock: 1, latentChannels: 4, outChannels: 3,
            usePostQuantConv: false, midBlockAddAttention: true)
        var entries: [SafeTensors.Entry] = []
        var k = 0
        for (name, shape) in Self.decoderParameters(expected) {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { i in Float(sin(Double(k * 7919 + i) * 0.37)) * 0.2 }
            k += 1
            let file = "first_stage_model." + VAEKeyNaming.ldm.fileName(for: name, levels: 2)
            entries.append(SafeTensors.Entry(name: file, tensor: Tensor(shape: shape, values: values)))
        }
        entries.append(
            SafeTensors.Entry(name: "first_stage_model.encoder.conv_in.weight", tensor: Tensor(zeros: [32, 3, 3, 3])))
        let url = scratch.appendingPathComponent("tiny-ldm.safetensors")
        try SafeTensors.write(entries, to: url)

        XCTAssertEqual(try AutoencoderKLConfig.inferred(weights: url), expected)
        let engine = try OpenBLASEngine()
        let inferred = try VAEDecoder(contentsOf: url, engine: engine)
        XCTAssertEqual(inferred.config, expected)
        XCTAssertEqual(inferred.scalingFactor, 0.18215)
        let explicit = try VAEDecoder(weights: url, config: expected, engine: engine)
        let z = Tensor(shape: [4, 3, 2], values: (0..<24).map { cos(Float($0) * 0.5) })
        XCTAssertEqual(inferred.decodeFrame(z).scalars, explicit.decodeFrame(z).scalars)
        XCTAssertEqual(inferred.decodeFrame(z).shape, [3, 6, 4])
    }

    /// Missing, inconsistent or mis-shaped tensors, and a truncated file, give errors naming the tensor.
    func testOddFilesNameTheTensor() throws {
        let ldm = try ldmWeights()
        func assertError(_ url: URL, names needle: String, line: UInt = #line) {
            XCTAssertThrowsError(try AutoencoderKLConfig.inferred(weights: url, normNumGroups: 4), line: line) {
                XCTAssertTrue("\($0)".contains(needle), "\($0) lacks \(needle)", line: line)
            }
        }
        let noConvIn = try rewrite(ldm, to: "no-conv-in.safetensors") { $0.hasPrefix("decoder.conv_in.") ? nil : $0 }
        assertError(noConvIn, names: "'decoder.conv_in.weight'")
        let encoderOnly = try rewrite(ldm, to: "encoder.safetensors") {
            $0.hasPrefix("encoder.") ? "first_stage_model." + $0 : nil
        }
        assertError(encoderOnly, names: "'first_stage_model.decoder.conv_in.weight'")
        let shortBlock = try rewrite(ldm, to: "short.safetensors") { $0.hasPrefix("decoder.up.1.block.2.") ? nil : $0 }
        assertError(shortBlock, names: "'decoder.up.1.block.2.conv1.weight'")
        let noUp = try rewrite(ldm, to: "no-up.safetensors") { $0.hasPrefix("decoder.up.") ? nil : $0 }
        assertError(noUp, names: "'decoder.up.0.block.0.conv1.weight'")
        let flat = try rewrite(
            ldm, to: "flat.safetensors",
            extra: [SafeTensors.Entry(name: "decoder.conv_out.weight", tensor: Tensor(zeros: [3, 72]))]
        ) { $0 == "decoder.conv_out.weight" ? nil : $0 }
        assertError(flat, names: "'decoder.conv_out.weight'")

        let bytes = try Data(contentsOf: ldm)
        let truncated = scratch.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        assertError(truncated, names: "tensor '")
    }

    /// The decoder parameters of `config` (current diffusers names and shapes), for writing a file.
    static func decoderParameters(_ config: AutoencoderKLConfig) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        func conv(_ n: String, _ ci: Int, _ co: Int, _ k: Int) {
            out += [(n + ".weight", [co, ci, k, k]), (n + ".bias", [co])]
        }
        func norm(_ n: String, _ c: Int) { out += [(n + ".weight", [c]), (n + ".bias", [c])] }
        func resnet(_ n: String, _ ci: Int, _ co: Int) {
            norm(n + ".norm1", ci)
            conv(n + ".conv1", ci, co, 3)
            norm(n + ".norm2", co)
            conv(n + ".conv2", co, co, 3)
            if ci != co { conv(n + ".conv_shortcut", ci, co, 1) }
        }
        let widths = Array(config.blockOutChannels.reversed()), top = widths[0], lat = config.latentChannels
        if config.usePostQuantConv { conv("post_quant_conv", lat, lat, 1) }
        conv("decoder.conv_in", lat, top, 3)
        resnet("decoder.mid_block.resnets.0", top, top)
        if config.midBlockAddAttention {
            let a = "decoder.mid_block.attentions.0"
            norm(a + ".group_norm", top)
            for p in ["to_q", "to_k", "to_v", "to_out.0"] { conv(a + "." + p, top, top, 1) }
        }
        resnet("decoder.mid_block.resnets.1", top, top)
        for (i, width) in widths.enumerated() {
            for j in 0...config.layersPerBlock {
                resnet("decoder.up_blocks.\(i).resnets.\(j)", j == 0 ? widths[max(i - 1, 0)] : width, width)
            }
            if i < widths.count - 1 { conv("decoder.up_blocks.\(i).upsamplers.0.conv", width, width, 3) }
        }
        norm("decoder.conv_norm_out", config.blockOutChannels[0])
        conv("decoder.conv_out", config.blockOutChannels[0], config.outChannels, 3)
        return out
    }
}
