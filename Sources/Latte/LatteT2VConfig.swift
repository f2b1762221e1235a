// Hyperparameters of the text-to-video Latte-skip transformer (official
// text-to-video/models/latte_t2v_skip.py LatteT2V_skip), read from <base>/transformer/config.json
// (diffusers format). `video_length` is overridden by the sampler (16 in every released config).

import Foundation

public struct LatteT2VConfig: Sendable, Equatable, Codable {
    public var numAttentionHeads: Int
    public var attentionHeadDim: Int
    public var inChannels: Int
    public var outChannels: Int
    public var numLayers: Int
    public var patchSize: Int
    /// Latent side the position table is based on (64 for 512 px).
    public var sampleSize: Int
    public var videoLength: Int
    public var captionChannels: Int
    public var crossAttentionDim: Int?
    public var normEps: Double
    public var activationFn: String
    public var attentionBias: Bool
    public var normType: String
    public var normElementwiseAffine: Bool

    enum CodingKeys: String, CodingKey {
        case numAttentionHeads = "num_attention_heads"
        case attentionHeadDim = "attention_head_dim"
        case inChannels = "in_channels"
        case outChannels = "out_channels"
        case numLayers = "num_layers"
        case patchSize = "patch_size"
        case sampleSize = "sample_size"
        case videoLength = "video_length"
        case captionChannels = "caption_channels"
        case crossAttentionDim = "cross_attention_dim"
        case normEps = "norm_eps"
        case activationFn = "activation_fn"
        case attentionBias = "attention_bias"
        case normType = "norm_type"
        case normElementwiseAffine = "norm_elementwise_affine"
    }

    /// D = heads · head dim.
    public var hiddenSize: Int { numAttentionHeads * attentionHeadDim }
    /// Skip branches (num_layers / 2 = 14).
    public var skipCount: Int { numLayers / 2 }
    public var mlpHidden: Int { 4 * hiddenSize }

    /// Reads and validates transformer/config.json.
    public static func load(_ url: URL) throws -> LatteT2VConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LatteError.inconsistent("cannot read \(url.path): \(error.localizedDescription)")
        }
        let config: LatteT2VConfig
        do { config = try JSONDecoder().decode(LatteT2VConfig.self, from: data) } catch {
            throw LatteError.inconsistent("\(url.path) is not a LatteT2V transformer config: \(error)")
        }
        try config.validate(source: url.path)
        return config
    }

    /// The released code supports exactly this architecture; anything else is an error, not a guess.
    public func validate(source: String) throws {
        guard numLayers == 28 else { throw LatteError.unsupportedDepth(numLayers) }
        guard normType == "ada_norm_single" else {
            throw LatteError.inconsistent("\(source): norm_type \(normType), only ada_norm_single is supported")
        }
        guard activationFn == "gelu-approximate" else {
            throw LatteError.inconsistent(
                "\(source): activation_fn \(activationFn), only gelu-approximate is supported")
        }
        guard !normElementwiseAffine else {
            throw LatteError.inconsistent("\(source): norm_elementwise_affine true is not supported")
        }
        guard attentionBias else { throw LatteError.inconsistent("\(source): attention_bias false is not supported") }
        guard outChannels == 2 * inChannels else {
            throw LatteError.inconsistent("\(source): out_channels \(outChannels) != 2 x in_channels (learned sigma)")
        }
        guard hiddenSize % 4 == 0, patchSize >= 1, sampleSize % patchSize == 0 else {
            throw LatteError.inconsistent(
                "\(source): hidden size \(hiddenSize) / patch \(patchSize) / sample size \(sampleSize)")
        }
        if let c = crossAttentionDim, c != hiddenSize {
            throw LatteError.inconsistent("\(source): cross_attention_dim \(c) != hidden size \(hiddenSize)")
        }
    }
}
