// Stable Video Diffusion's temporal VAE decoder (diffusers AutoencoderKLTemporalDecoder.decode) as
// the Skip-DiT text-to-video pipeline runs it (pipeline_latte.decode_latents_with_temporal_decoder,
// spec vae-temporal-decoder.md): frames are decoded in consecutive chunks (14 by default), each
// one decode call with num_frames = its length; frames of different chunks never interact.
//
// Within a call, spatial layers run frame by frame and temporal layers (GroupNorm statistics over
// all the call's frames, (3,1,1) convs) over the call's frames. The upsampled map feeding an up
// block is produced one frame at a time, and output frames are handed over as soon as the final
// temporal conv has their neighbours.
//
// Shapes: z (F, C_lat, h, w) -> frames (3, h·2^(L−1), w·2^(L−1)) RGB, not clamped.
//
// Memory: a call holds two chunk-sized buffers at the current block width (the spatial outputs and
// the first temporal conv's outputs) plus per-frame scratch: about 3.5 GiB for 14 frames at
// 512x512 in fp32 (spec §12), a quarter of that at 256x256.
//
// Deviation: a one-frame video (F = 1) is decoded as one call with num_frames = 1 (centre
// temporal tap only, statistics over one frame); the official pipeline raises a TypeError there.

import Foundation
import TensorCore

/// The temporal (SVD) VAE decoder with weights prepared for one GEMM engine.
public final class TemporalVAEDecoder {
    public let config: TemporalDecoderConfig
    /// The naming convention found in the weights file.
    public let naming: VAEKeyNaming
    private let convIn: Conv2D
    private let midResnets: [SpatioTemporalResBlock]
    private let midAttention: SpatialAttention
    private let upBlocks: [(resnets: [SpatioTemporalResBlock], upsampler: UpsampleConv?)]
    private let normOut: GroupNorm
    private let convOut: Conv2D
    private let timeConvOut: TemporalConv
    private let pool = BufferPool()

    /// Loads a diffusers folder: config.json plus diffusion_pytorch_model.safetensors (or .bin).
    public convenience init(directory: URL, engine: GEMMEngine) throws(VAEError) {
        let config = try TemporalDecoderConfig.load(directory.appendingPathComponent("config.json"))
        try self.init(config: config, weights: directory, engine: engine)
    }

    /// Loads a weights file (or folder) with an explicit configuration.
    public convenience init(config: TemporalDecoderConfig, weights: URL, engine: GEMMEngine) throws(VAEError) {
        try config.validate()
        let reader = try ParameterReader(weights: weights, levels: config.blockOutChannels.count, owned: ["decoder."])
        try self.init(config: config, reader: reader, engine: engine)
    }

    /// A decoder with random (seeded) weights of the configuration's sizes, for benchmarks.
    public static func random(config: TemporalDecoderConfig, engine: GEMMEngine, seed: UInt64 = 0) throws(VAEError)
        -> TemporalVAEDecoder
    {
        try config.validate()
        return try TemporalVAEDecoder(
            config: config, reader: ParameterReader(randomWithSeed: seed, levels: config.blockOutChannels.count),
            engine: engine)
    }

    private init(config: TemporalDecoderConfig, reader: ParameterReader, engine: GEMMEngine) throws(VAEError) {
        self.config = config
        let channels = config.blockOutChannels, levels = channels.count
        let groups = TemporalDecoderConfig.normGroups, eps = TemporalDecoderConfig.spatialEpsilon
        naming = reader.naming
        func block(_ name: String, in ci: Int, out co: Int) throws(VAEError) -> SpatioTemporalResBlock {
            let t = name + ".temporal_res_block", teps = TemporalDecoderConfig.temporalEpsilon
            func tconv(_ n: String, scale: Float) throws(VAEError) -> TemporalConv {
                TemporalConv(
                    weight: try reader.tensor(t + n + ".weight", shape: [co, co, 3, 1, 1]),
                    bias: try reader.tensor(t + n + ".bias", shape: [co]), scale: scale, engine: engine)
            }
            let mix = try reader.tensor(name + ".time_mixer.mix_factor", shape: [1]).scalars[0]
            let sigma = Float(1 / (1 + Foundation.exp(-Double(mix))))
            return SpatioTemporalResBlock(
                spatial: try reader.resnet(
                    name + ".spatial_res_block", in: ci, out: co, groups: groups, epsilon: eps, engine: engine),
                norm1: try reader.groupNorm(t + ".norm1", channels: co, groups: groups, epsilon: teps),
                conv1: try tconv(".conv1", scale: 1),
                norm2: try reader.groupNorm(t + ".norm2", channels: co, groups: groups, epsilon: teps),
                conv2: try tconv(".conv2", scale: sigma), sigma: sigma)
        }
        let reversed = Array(channels.reversed()), top = reversed[0]
        convIn = try reader.conv("decoder.conv_in", in: config.latentChannels, out: top, kernel: 3, engine: engine)
        var mid: [SpatioTemporalResBlock] = []
        for j in 0..<config.layersPerBlock {
            mid.append(try block("decoder.mid_block.resnets.\(j)", in: top, out: top))
        }
        midResnets = mid
        midAttention = try reader.attention(
            "decoder.mid_block.attentions.0", channels: top, groups: groups, epsilon: eps, engine: engine)
        var blocks: [(resnets: [SpatioTemporalResBlock], upsampler: UpsampleConv?)] = []
        for i in 0..<levels {
            let out = reversed[i], input = reversed[max(i - 1, 0)]
            var resnets: [SpatioTemporalResBlock] = []
            for j in 0...config.layersPerBlock {
                resnets.append(try block("decoder.up_blocks.\(i).resnets.\(j)", in: j == 0 ? input : out, out: out))
            }
            let up =
                i < levels - 1
                ? try reader.upsampler("decoder.up_blocks.\(i).upsamplers.0", channels: out, engine: engine) : nil
            blocks.append((resnets, up))
        }
        upBlocks = blocks
        normOut = try reader.groupNorm("decoder.conv_norm_out", channels: channels[0], groups: groups, epsilon: eps)
        convOut = try reader.conv(
            "decoder.conv_out", in: channels[0], out: config.outChannels, kernel: 3, engine: engine)
        let oc = config.outChannels
        timeConvOut = TemporalConv(
            weight: try reader.tensor("decoder.time_conv_out.weight", shape: [oc, oc, 3, 1, 1]),
            bias: try reader.tensor("decoder.time_conv_out.bias", shape: [oc]), engine: engine)
        try reader.finish()
    }

    /// The latents' scaling factor (config.json, or 0.18215).
    public var scalingFactor: Double { config.scalingFactor }

    /// z = latents · float32(1 / scaling_factor), as the pipeline computes it. Accepts (F, C, h, w)
    /// or the pipeline's (1, C, F, h, w) and returns (F, C, h, w).
    public func latentsToZ(_ latents: Tensor) -> Tensor {
        var frames = latents
        if latents.rank == 5 {
            precondition(latents.shape[0] == 1, "only one video at a time, got \(latents.shape)")
            let (c, f, hw) = (latents.shape[1], latents.shape[2], latents.shape[3] * latents.shape[4])
            frames = Tensor(zeros: [f, c, latents.shape[3], latents.shape[4]])
            let src = latents.pointer, dst = frames.mutablePointer()
            for ch in 0..<c {
                for t in 0..<f { (dst + (t * c + ch) * hw).update(from: src + (ch * f + t) * hw, count: hw) }
            }
        }
        precondition(frames.rank == 4, "latents must be (F, C, h, w) or (1, C, F, h, w), got \(latents.shape)")
        let inverse = Float(1 / config.scalingFactor)
        var z = frames.copy()
        z.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = p[i] * inverse } }
        return z
    }

    /// The decode calls for `frames` frames in chunks of `chunkSize`: 16 in 14s gives 0..<14, 14..<16.
    public static func chunks(frames: Int, chunkSize: Int = TemporalDecoderConfig.defaultChunkSize) -> [Range<Int>] {
        precondition(chunkSize > 0, "chunk size must be positive")
        return stride(from: 0, to: frames, by: chunkSize).map { $0..<min(frames, $0 + chunkSize) }
    }

    /// Decodes z (F, C_lat, h, w) chunk by chunk, calling `frameHandler(f, frame (3, H, W))` for
    /// every frame in order as soon as it is ready.
    public func decode(
        z: Tensor, chunkSize: Int = TemporalDecoderConfig.defaultChunkSize, observer: VAEObserver? = nil,
        frameHandler: (Int, Tensor) throws -> Void
    ) rethrows {
        for chunk in Self.chunks(frames: z.shape[0], chunkSize: chunkSize) {
            try decodeCall(z: z, frames: chunk, observer: observer, frameHandler: frameHandler)
        }
    }

    /// One diffusers `decode(z[frames], num_frames: frames.count)` call: the frames form one video.
    public func decodeCall(
        z: Tensor, frames: Range<Int>, observer: VAEObserver? = nil, frameHandler: (Int, Tensor) throws -> Void
    ) rethrows {
        precondition(
            z.rank == 4 && z.shape[1] == config.latentChannels,
            "z must be (F, \(config.latentChannels), h, w), got \(z.shape)")
        precondition(!frames.isEmpty && frames.upperBound <= z.shape[0], "frames \(frames) of \(z.shape[0])")
        defer { pool.trim() }
        let (c, h, w) = (z.shape[1], z.shape[2], z.shape[3])
        let n = frames.count, first = frames.lowerBound
        func see(_ module: String, _ f: Int, _ map: FeatureMap) { observer?(module, first + f, map.channelFirst()) }
        func run(
            _ block: SpatioTemporalResBlock, _ name: String, _ input: FrameQueue,
            _ prepare: ((Int, FeatureMap) -> FeatureMap)?
        ) -> FrameQueue {
            let out = block(
                frames: n, input: { f in prepare.map { $0(f, input.take(f)) } ?? input.take(f) },
                observe: observer == nil ? nil : { part, f, m in see(name + "." + part, f, m) })
            if observer != nil { for (f, m) in out.enumerated() { see(name, f, m) } }
            return FrameQueue(out)
        }

        var x = FrameQueue(
            (0..<n).map { f in
                let m = FeatureMap(height: h, width: w, channels: c, pool: pool)
                withExtendedLifetime(z) { m.load(channelFirst: z.pointer + (first + f) * c * h * w) }
                let y = convIn(m)
                see("decoder.conv_in", f, y)
                return y
            })
        x = run(midResnets[0], "decoder.mid_block.resnets.0", x, nil)
        if midResnets.count >= 2 {
            x = run(midResnets[1], "decoder.mid_block.resnets.1", x) { f, m in
                self.midAttention.apply(m)
                see("decoder.mid_block.attentions.0", f, m)
                return m
            }
        }
        var upsample: (UpsampleConv, String)?
        for (i, block) in upBlocks.enumerated() {
            for (j, resnet) in block.resnets.enumerated() {
                var prepare: ((Int, FeatureMap) -> FeatureMap)?
                if j == 0, let (up, name) = upsample {
                    prepare = { f, m in
                        let u = up(m)
                        see(name, f, u)
                        return u
                    }
                }
                x = run(resnet, "decoder.up_blocks.\(i).resnets.\(j)", x, prepare)
            }
            upsample = block.upsampler.map { ($0, "decoder.up_blocks.\(i).upsamplers.0") }
        }
        // conv_norm_out, SiLU, conv_out per frame; time_conv_out once a frame's neighbours exist.
        var outputs: [Int: FeatureMap] = [:]
        for f in 0..<(n + 1) {
            if f < n {
                let m = x.take(f)
                if observer != nil {
                    normOut.apply(m, into: m, silu: false)
                    see("decoder.conv_norm_out", f, m)
                    m.applySiLU()
                    see("decoder.conv_act", f, m)
                } else {
                    normOut.apply(m, into: m, silu: true)
                }
                outputs[f] = convOut(m)
                if let o = outputs[f] { see("decoder.conv_out", f, o) }
            }
            let g = f - 1
            guard g >= 0, let current = outputs[g] else { continue }
            let y = current.sibling()
            timeConvOut.apply(previous: outputs[g - 1], current: current, next: outputs[g + 1], into: y)
            see("decoder.time_conv_out", g, y)
            outputs[g - 1] = nil
            try frameHandler(first + g, y.channelFirst())
        }
    }
}
