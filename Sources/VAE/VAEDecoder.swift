// The 2-D AutoencoderKL decoder (diffusers AutoencoderKL.decode: post_quant_conv + Decoder), as the
// Skip-DiT class-to-video samplers use it with sd-vae-ft-ema (spec vae-decoder.md §3–5). Every
// operation works on one frame, so frames are decoded one at a time and handed to the caller as
// soon as they are ready; activation memory is that of a single frame.
//
// Shapes: z (F, C_lat, h, w) -> frames (3, h·2^(L−1), w·2^(L−1)), RGB, nominal range [-1, 1],
// not clamped. Legend: F frames, C channels, L = len(block_out_channels).

import Foundation
import TensorCore

/// Receives a module's output during a decode (conformance and debugging): the diffusers module
/// path, the frame index and the output as (C, h, w).
public typealias VAEObserver = (_ module: String, _ frame: Int, _ output: Tensor) -> Void

/// AutoencoderKL decoder with weights prepared for one GEMM engine.
public final class VAEDecoder {
    public let config: AutoencoderKLConfig
    /// The naming convention found in the weights file.
    public let naming: VAEKeyNaming
    let engine: GEMMEngine
    private let postQuantConv: Conv2D?
    private let convIn: Conv2D
    private let midResnets: [ResnetBlock2D]
    private let midAttention: SpatialAttention?
    private let upBlocks: [(resnets: [ResnetBlock2D], upsampler: UpsampleConv?)]
    private let normOut: GroupNorm
    private let convOut: Conv2D
    private let pool = BufferPool()

    /// Loads a diffusers VAE folder: config.json plus diffusion_pytorch_model.safetensors or .bin.
    public convenience init(directory: URL, engine: GEMMEngine) throws(VAEError) {
        let config = try AutoencoderKLConfig.load(directory.appendingPathComponent("config.json"))
        try self.init(config: config, weights: directory, engine: engine)
    }

    /// Loads a VAE from a diffusers folder (config.json plus weights) or from a single weights file:
    /// with a config.json beside the file that config, without one the configuration its tensor
    /// shapes describe (`AutoencoderKLConfig.inferred`: diffusers' single-file defaults,
    /// norm_num_groups 32 and scaling_factor 0.18215).
    public convenience init(contentsOf url: URL, engine: GEMMEngine) throws(VAEError) {
        switch VAEWeights.configSource(for: url) {
        case .file(let configURL):
            try self.init(config: AutoencoderKLConfig.load(configURL), weights: url, engine: engine)
        case .inferredFromShapes:
            let dict = try VAEWeights.stateDict(url)
            let config = try AutoencoderKLConfig.inferred(from: dict)
            let reader = try ParameterReader(dict, levels: config.blockOutChannels.count, owned: Self.owned)
            try self.init(config: config, reader: reader, engine: engine)
        }
    }

    /// Loads a weights file (or folder) in any supported naming, with an explicit configuration
    /// (e.g. an LDM `.safetensors`, which carries no config).
    public convenience init(weights: URL, config: AutoencoderKLConfig, engine: GEMMEngine) throws(VAEError) {
        try config.validate()
        try self.init(config: config, weights: weights, engine: engine)
    }

    private convenience init(config: AutoencoderKLConfig, weights: URL, engine: GEMMEngine) throws(VAEError) {
        let reader = try ParameterReader(weights: weights, levels: config.blockOutChannels.count, owned: Self.owned)
        try self.init(config: config, reader: reader, engine: engine)
    }

    /// Name prefixes of the tensors the decoder reads (the encoder and quant_conv are skipped).
    private static let owned = ["decoder.", "post_quant_conv."]

    /// A decoder with random (seeded) weights of the configuration's sizes, for benchmarks.
    public static func random(config: AutoencoderKLConfig, engine: GEMMEngine, seed: UInt64 = 0) throws(VAEError)
        -> VAEDecoder
    {
        try config.validate()
        return try VAEDecoder(
            config: config, reader: ParameterReader(randomWithSeed: seed, levels: config.blockOutChannels.count),
            engine: engine)
    }

    private init(config: AutoencoderKLConfig, reader: ParameterReader, engine: GEMMEngine) throws(VAEError) {
        self.config = config
        self.engine = engine
        let channels = config.blockOutChannels, levels = channels.count
        let groups = config.normNumGroups, eps = AutoencoderKLConfig.groupNormEpsilon
        naming = reader.naming
        let lat = config.latentChannels
        postQuantConv =
            config.usePostQuantConv
            ? try reader.conv("post_quant_conv", in: lat, out: lat, kernel: 1, engine: engine) : nil
        let reversed = Array(channels.reversed())
        let top = reversed[0]
        convIn = try reader.conv("decoder.conv_in", in: lat, out: top, kernel: 3, engine: engine)
        var mid: [ResnetBlock2D] = []
        for j in 0..<2 {
            mid.append(
                try reader.resnet(
                    "decoder.mid_block.resnets.\(j)", in: top, out: top, groups: groups, epsilon: eps, engine: engine))
        }
        midResnets = mid
        midAttention =
            config.midBlockAddAttention
            ? try reader.attention(
                "decoder.mid_block.attentions.0", channels: top, groups: groups, epsilon: eps, engine: engine)
            : nil
        var blocks: [(resnets: [ResnetBlock2D], upsampler: UpsampleConv?)] = []
        for i in 0..<levels {
            let out = reversed[i], input = reversed[max(i - 1, 0)]
            var resnets: [ResnetBlock2D] = []
            for j in 0...config.layersPerBlock {
                resnets.append(
                    try reader.resnet(
                        "decoder.up_blocks.\(i).resnets.\(j)", in: j == 0 ? input : out, out: out, groups: groups,
                        epsilon: eps, engine: engine))
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
        try reader.finish()
    }

    /// The factor latents are divided by before decoding (config.json, or 0.18215).
    public var scalingFactor: Double { config.scalingFactor }

    /// z = latents / scaling_factor (+ shift_factor), elementwise in float32 as the samplers do.
    public func latentsToZ(_ latents: Tensor) -> Tensor {
        var z = latents.copy()
        let s = Float(config.scalingFactor), shift = config.shiftFactor.map { Float($0) }
        z.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                p[i] = p[i] / s
                if let shift { p[i] += shift }
            }
        }
        return z
    }

    /// Decodes z (F, C_lat, h, w) frame by frame, calling `frameHandler(f, frame (3, H, W))` as each
    /// frame is ready. `observer`, if given, receives every module's output.
    public func decode(
        z: Tensor, observer: VAEObserver? = nil, frameHandler: (Int, Tensor) throws -> Void
    ) rethrows {
        precondition(
            z.rank == 4 && z.shape[1] == config.latentChannels,
            "z must be (F, \(config.latentChannels), h, w), got \(z.shape)")
        let (f, c, h, w) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        defer { pool.trim() }
        for i in 0..<f {
            let frame = withExtendedLifetime(z) {
                decodeFrame(z.pointer + i * c * h * w, height: h, width: w, index: i, observer: observer)
            }
            try frameHandler(i, frame)
        }
    }

    /// Decodes one latent frame z (C_lat, h, w) into (3, H, W).
    public func decodeFrame(_ z: Tensor) -> Tensor {
        precondition(
            z.rank == 3 && z.shape[0] == config.latentChannels,
            "z must be (\(config.latentChannels), h, w), got \(z.shape)")
        return withExtendedLifetime(z) {
            decodeFrame(z.pointer, height: z.shape[1], width: z.shape[2], index: 0, observer: nil)
        }
    }

    private func decodeFrame(
        _ z: UnsafePointer<Float>, height h: Int, width w: Int, index: Int, observer: VAEObserver?
    ) -> Tensor {
        func see(_ module: String, _ map: FeatureMap) { observer?(module, index, map.channelFirst()) }
        var x = FeatureMap(height: h, width: w, channels: config.latentChannels, pool: pool)
        x.load(channelFirst: z)
        if let postQuantConv {
            x = postQuantConv(x)
            see("post_quant_conv", x)
        }
        x = convIn(x)
        see("decoder.conv_in", x)
        x = midResnets[0](x)
        see("decoder.mid_block.resnets.0", x)
        if let midAttention {
            midAttention.apply(x)
            see("decoder.mid_block.attentions.0", x)
        }
        x = midResnets[1](x)
        see("decoder.mid_block.resnets.1", x)
        for (i, block) in upBlocks.enumerated() {
            for (j, resnet) in block.resnets.enumerated() {
                x = resnet(x)
                see("decoder.up_blocks.\(i).resnets.\(j)", x)
            }
            if let up = block.upsampler {
                x = up(x)
                see("decoder.up_blocks.\(i).upsamplers.0", x)
            }
        }
        if observer != nil {
            normOut.apply(x, into: x, silu: false)
            see("decoder.conv_norm_out", x)
            x.applySiLU()
            see("decoder.conv_act", x)
        } else {
            normOut.apply(x, into: x, silu: true)
        }
        x = convOut(x)
        see("decoder.conv_out", x)
        return x.channelFirst()
    }
}
