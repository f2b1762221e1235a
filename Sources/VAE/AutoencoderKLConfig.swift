// The decoder half of diffusers' AutoencoderKL config.json (sd-vae-ft-ema / SD 1.x VAE), with the
// defaults diffusers applies to absent keys. Every size comes from here: nothing is hard-coded.

import Foundation

/// Configuration of a 2-D `AutoencoderKL` decoder, decoded from a diffusers config.json.
public struct AutoencoderKLConfig: Codable, Sendable, Equatable {
    /// Channel width per level, encoder order (the decoder walks it reversed).
    public var blockOutChannels: [Int]
    /// Resnets per encoder level; each decoder up block has `layersPerBlock + 1`.
    public var layersPerBlock: Int
    public var latentChannels: Int
    public var outChannels: Int
    /// Groups of every decoder GroupNorm.
    public var normNumGroups: Int
    public var actFn: String
    public var upBlockTypes: [String]
    /// latents = z · scalingFactor; diffusers' default 0.18215 when the key is absent.
    public var scalingFactor: Double
    /// SD3/Flux only: z = latents / scalingFactor + shiftFactor when set.
    public var shiftFactor: Double?
    public var usePostQuantConv: Bool
    public var midBlockAddAttention: Bool

    /// diffusers' default scaling factor (also the SD 1.x value).
    public static let defaultScalingFactor = 0.18215
    /// Every decoder GroupNorm uses this epsilon (hard-coded in diffusers, not in the config).
    public static let groupNormEpsilon: Float = 1e-6

    enum CodingKeys: String, CodingKey {
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case latentChannels = "latent_channels", outChannels = "out_channels", normNumGroups = "norm_num_groups"
        case actFn = "act_fn", upBlockTypes = "up_block_types", scalingFactor = "scaling_factor"
        case shiftFactor = "shift_factor", usePostQuantConv = "use_post_quant_conv"
        case midBlockAddAttention = "mid_block_add_attention"
    }

    public init(
        blockOutChannels: [Int], layersPerBlock: Int, latentChannels: Int = 4, outChannels: Int = 3,
        normNumGroups: Int = 32, scalingFactor: Double = AutoencoderKLConfig.defaultScalingFactor,
        shiftFactor: Double? = nil, usePostQuantConv: Bool = true, midBlockAddAttention: Bool = true
    ) {
        self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock
        self.latentChannels = latentChannels
        self.outChannels = outChannels
        self.normNumGroups = normNumGroups
        self.actFn = "silu"
        self.upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: blockOutChannels.count)
        self.scalingFactor = scalingFactor
        self.shiftFactor = shiftFactor
        self.usePostQuantConv = usePostQuantConv
        self.midBlockAddAttention = midBlockAddAttention
    }

    /// The full-size sd-vae-ft-ema configuration (spec vae-decoder.md §2).
    public static let sdVAEFtEMA = AutoencoderKLConfig(blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2)

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? [64]
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? 1
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? 4
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? 3
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? 32
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn) ?? "silu"
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? ["UpDecoderBlock2D"]
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? Self.defaultScalingFactor
        shiftFactor = try c.decodeIfPresent(Double.self, forKey: .shiftFactor)
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv) ?? true
        midBlockAddAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention) ?? true
    }

    /// Reads and validates a config.json.
    public static func load(_ url: URL) throws(VAEError) -> AutoencoderKLConfig {
        let config: AutoencoderKLConfig = try decodeConfigJSON(url)
        try config.validate(path: url.path)
        return config
    }

    /// Checks that this is a decoder we implement.
    public func validate(path: String = "config") throws(VAEError) {
        func fail(_ reason: String, _ hint: String) -> VAEError { .config(path: path, reason: reason, hint: hint) }
        guard !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 }) else {
            throw fail("block_out_channels \(blockOutChannels) must be non-empty and positive", "fix config.json")
        }
        guard layersPerBlock >= 1 else { throw fail("layers_per_block \(layersPerBlock) < 1", "fix config.json") }
        guard latentChannels > 0, outChannels > 0 else {
            throw fail("channel counts must be positive", "fix config.json")
        }
        guard normNumGroups > 0, blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            throw fail("norm_num_groups \(normNumGroups) does not divide \(blockOutChannels)", "fix config.json")
        }
        guard actFn == "silu" else {
            throw fail("act_fn '\(actFn)' is not supported", "only silu VAEs are implemented")
        }
        guard upBlockTypes.count == blockOutChannels.count, upBlockTypes.allSatisfy({ $0 == "UpDecoderBlock2D" }) else {
            throw fail(
                "up_block_types \(upBlockTypes) must be \(blockOutChannels.count) x UpDecoderBlock2D",
                "only the plain AutoencoderKL decoder is implemented")
        }
        guard scalingFactor.isFinite, scalingFactor != 0 else {
            throw fail("scaling_factor \(scalingFactor) is not usable", "fix config.json")
        }
    }

    /// Output pixels per latent pixel along each axis: 2^(levels − 1).
    public var upsamplingFactor: Int { 1 << (blockOutChannels.count - 1) }
}

/// Decodes a config.json into `T`, mapping I/O and JSON errors to `VAEError.config`.
func decodeConfigJSON<T: Decodable>(_ url: URL) throws(VAEError) -> T {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw .config(
            path: url.path, reason: "cannot read (\(error.localizedDescription))",
            hint: "a diffusers VAE folder has a config.json next to its weights")
    }
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
        throw .config(path: url.path, reason: "not a valid VAE config (\(error))", hint: "check the JSON")
    }
}
