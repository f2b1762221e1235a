// The decoder half of diffusers' AutoencoderKLTemporalDecoder config.json (Stable Video Diffusion's
// VAE, used by the Skip-DiT text-to-video pipeline). GroupNorm groups and epsilons are hard-coded
// in diffusers (spec vae-temporal-decoder.md §2), so they are constants here, not config fields.

import Foundation

/// Configuration of a temporal (SVD) VAE decoder, decoded from a diffusers config.json.
public struct TemporalDecoderConfig: Codable, Sendable, Equatable {
    /// Channel width per level, encoder order (the decoder walks it reversed).
    public var blockOutChannels: [Int]
    /// Mid block resnets; each up block has `layersPerBlock + 1` spatio-temporal resnets.
    public var layersPerBlock: Int
    public var latentChannels: Int
    public var outChannels: Int
    /// latents = z · scalingFactor; 0.18215 when absent.
    public var scalingFactor: Double

    /// GroupNorm groups everywhere in the decoder.
    public static let normGroups = 32
    /// Spatial resnet, attention and conv_norm_out GroupNorm epsilon.
    public static let spatialEpsilon: Float = 1e-6
    /// Temporal resnet GroupNorm epsilon.
    public static let temporalEpsilon: Float = 1e-5
    /// The chunk size the official text-to-video pipeline hard-codes.
    public static let defaultChunkSize = 14

    enum CodingKeys: String, CodingKey {
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case latentChannels = "latent_channels", outChannels = "out_channels", scalingFactor = "scaling_factor"
    }

    public init(
        blockOutChannels: [Int], layersPerBlock: Int, latentChannels: Int = 4, outChannels: Int = 3,
        scalingFactor: Double = AutoencoderKLConfig.defaultScalingFactor
    ) {
        self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock
        self.latentChannels = latentChannels
        self.outChannels = outChannels
        self.scalingFactor = scalingFactor
    }

    /// The released SVD temporal decoder's configuration (spec §2).
    public static let svd = TemporalDecoderConfig(blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2)

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? [64]
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? 1
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? 4
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? 3
        scalingFactor =
            try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? AutoencoderKLConfig.defaultScalingFactor
    }

    /// Reads and validates a config.json.
    public static func load(_ url: URL) throws(VAEError) -> TemporalDecoderConfig {
        let config: TemporalDecoderConfig = try decodeConfigJSON(url)
        try config.validate(path: url.path)
        return config
    }

    /// Checks that this is a decoder we implement.
    public func validate(path: String = "config") throws(VAEError) {
        func fail(_ reason: String) -> VAEError { .config(path: path, reason: reason, hint: "fix config.json") }
        guard !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 && $0 % Self.normGroups == 0 }) else {
            throw fail("block_out_channels \(blockOutChannels) must be positive multiples of \(Self.normGroups)")
        }
        guard layersPerBlock >= 1 else { throw fail("layers_per_block \(layersPerBlock) < 1") }
        guard latentChannels > 0, outChannels > 0 else { throw fail("channel counts must be positive") }
        guard scalingFactor.isFinite, scalingFactor != 0 else {
            throw fail("scaling_factor \(scalingFactor) is not usable")
        }
    }

    /// Output pixels per latent pixel along each axis: 2^(levels − 1).
    public var upsamplingFactor: Int { 1 << (blockOutChannels.count - 1) }
}
