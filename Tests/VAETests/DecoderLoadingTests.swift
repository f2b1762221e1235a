// Configuration defaults and validation, strict weight loading (a config that does not match the
// weights is an error naming a tensor), the chunk plan, and streaming equivalences, on the fixtures.

import Foundation
import TensorCore
import TestSupport
import VAE
import XCTest

final class DecoderLoadingTests: XCTestCase {
    let vae = Fixtures.suite("vae"), temporal = Fixtures.suite("vae-temporal")

    func testConfigDefaults() throws {
        let legacy = try AutoencoderKLConfig.load(vae.appendingPathComponent("model/legacy_bin/config.json"))
        XCTAssertEqual(legacy.scalingFactor, 0.18215)  // absent -> default
        XCTAssertTrue(legacy.usePostQuantConv)
        XCTAssertTrue(legacy.midBlockAddAttention)
        XCTAssertNil(legacy.shiftFactor)
        XCTAssertEqual(legacy.blockOutChannels, [8, 16, 32, 32])
        XCTAssertEqual(legacy.normNumGroups, 4)
        XCTAssertEqual(legacy.upsamplingFactor, 8)
        let t = try TemporalDecoderConfig.load(temporal.appendingPathComponent("model/config.json"))
        XCTAssertEqual(t.blockOutChannels, [32, 32, 32, 64])
        XCTAssertEqual(t.scalingFactor, 0.18215)
    }

    func testConfigValidation() throws {
        var c = AutoencoderKLConfig.sdVAEFtEMA
        XCTAssertNoThrow(try c.validate())
        c.actFn = "gelu"
        XCTAssertThrowsError(try c.validate())
        c = .sdVAEFtEMA
        c.upBlockTypes[0] = "AttnUpDecoderBlock2D"
        XCTAssertThrowsError(try c.validate())
        c = .sdVAEFtEMA
        c.normNumGroups = 48
        XCTAssertThrowsError(try c.validate())
        var t = TemporalDecoderConfig.svd
        t.blockOutChannels = [48, 64]
        XCTAssertThrowsError(try t.validate())
    }

    func testMismatchedConfigIsAnErrorNamingATensor() throws {
        let engine = try OpenBLASEngine()
        let weights = vae.appendingPathComponent("model/diffusers_safetensors")
        var config = try AutoencoderKLConfig.load(weights.appendingPathComponent("config.json"))
        config.layersPerBlock = 1  // the file has a third resnet per up block
        XCTAssertThrowsError(try VAEDecoder(weights: weights, config: config, engine: engine)) { error in
            XCTAssertTrue("\(error)".contains("decoder.up_blocks.0.resnets.2"), "\(error)")
        }
        config.layersPerBlock = 2
        config.blockOutChannels = [8, 16, 32, 64]
        XCTAssertThrowsError(try VAEDecoder(weights: weights, config: config, engine: engine)) { error in
            XCTAssertTrue("\(error)".contains("shape"), "\(error)")
        }
        config.blockOutChannels = [8, 16, 32, 32]
        config.midBlockAddAttention = false  // the attention tensors go unused
        XCTAssertThrowsError(try VAEDecoder(weights: weights, config: config, engine: engine)) { error in
            XCTAssertTrue("\(error)".contains("attentions.0"), "\(error)")
        }
    }

    func testNamingsAreDetected() throws {
        let engine = try OpenBLASEngine()
        let config = try AutoencoderKLConfig.load(vae.appendingPathComponent("model/diffusers_safetensors/config.json"))
        let cases: [(String, VAEKeyNaming)] = [
            ("model/diffusers_safetensors", .diffusers), ("model/legacy_bin", .legacyDiffusers),
            ("model/ldm_safetensors/vae.safetensors", .ldm),
        ]
        for (path, naming) in cases {
            let d = try VAEDecoder(weights: vae.appendingPathComponent(path), config: config, engine: engine)
            XCTAssertEqual(d.naming, naming, path)
        }
    }

    func testChunkPlan() {
        XCTAssertEqual(TemporalVAEDecoder.chunks(frames: 16), [0..<14, 14..<16])
        XCTAssertEqual(TemporalVAEDecoder.chunks(frames: 15), [0..<14, 14..<15])
        XCTAssertEqual(TemporalVAEDecoder.chunks(frames: 14), [0..<14])
        XCTAssertEqual(TemporalVAEDecoder.chunks(frames: 6, chunkSize: 4), [0..<4, 4..<6])
        XCTAssertEqual(TemporalVAEDecoder.chunks(frames: 1), [0..<1])
    }

    /// Frame-by-frame 2-D decoding equals decoding one frame alone (frames are independent).
    func testFramesAreIndependent() throws {
        let engine = try OpenBLASEngine()
        let decoder = try VAEDecoder(
            directory: vae.appendingPathComponent("model/diffusers_safetensors"), engine: engine)
        var z = Tensor(zeros: [2, 4, 3, 5])
        z.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(sin(Double(i) * 0.7)) } }
        var frames: [Tensor] = []
        decoder.decode(z: z) { _, f in frames.append(f) }
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(frames[0].shape, [3, 24, 40])
        let second = decoder.decodeFrame(Tensor(shape: [4, 3, 5], values: Array(z.scalars[60...])))
        XCTAssertEqual(second.scalars, frames[1].scalars)
    }

    /// The temporal decoder's frames depend on their chunk: decoding 4 frames in one call differs
    /// from two calls of 2 (the chunking is part of the algorithm), and the output order is kept.
    func testTemporalChunksAreIndependentVideos() throws {
        let engine = try OpenBLASEngine()
        let decoder = try TemporalVAEDecoder(directory: temporal.appendingPathComponent("model"), engine: engine)
        var z = Tensor(zeros: [4, 4, 2, 3])
        z.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(cos(Double(i) * 0.3)) } }
        var whole: [Tensor] = [], split: [Tensor] = [], order: [Int] = []
        decoder.decode(z: z, chunkSize: 4) { _, f in whole.append(f) }
        decoder.decode(z: z, chunkSize: 2) { i, f in
            split.append(f); order.append(i)
        }
        XCTAssertEqual(order, [0, 1, 2, 3])
        var tail: [Tensor] = []
        decoder.decodeCall(z: z, frames: 2..<4) { _, f in tail.append(f) }
        XCTAssertEqual(tail[0].scalars, split[2].scalars)
        XCTAssertEqual(tail[1].scalars, split[3].scalars)
        let difference = zip(whole[0].scalars, split[0].scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(difference, 1e-3)
    }
}
