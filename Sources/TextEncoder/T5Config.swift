// The configuration of a T5 encoder, read from a transformers `config.json` (T5Config), with
// validation: only the v1.1 encoder (gated tanh-GELU feed-forward) is supported.

import Foundation

/// Hyperparameters of a T5 v1.1 encoder (t5-v1_1-xxl: d_model 4096, 64 heads of 64, d_ff 10240,
/// 24 layers, 32 buckets up to distance 128, ε 1e-6).
public struct T5Config: Codable, Sendable, Equatable {
    /// D, the hidden size.
    public var dModel: Int
    /// Size of one attention head.
    public var dKV: Int
    /// Attention heads; inner size = numHeads · dKV.
    public var numHeads: Int
    /// Feed-forward hidden size.
    public var dFF: Int
    /// Encoder blocks.
    public var numLayers: Int
    /// Rows of the token embedding.
    public var vocabSize: Int
    /// Relative-position buckets (half for each direction).
    public var relativeAttentionNumBuckets: Int
    /// Distance at which the logarithmic buckets end.
    public var relativeAttentionMaxDistance: Int
    /// RMSNorm ε.
    public var layerNormEpsilon: Double
    /// "gated-gelu" for T5 v1.1.
    public var feedForwardProj: String
    /// The activation of the gated feed-forward ("gelu_new", the tanh approximation).
    public var denseActFn: String?

    enum CodingKeys: String, CodingKey {
        case dModel = "d_model", dKV = "d_kv", numHeads = "num_heads", dFF = "d_ff", numLayers = "num_layers"
        case vocabSize = "vocab_size", relativeAttentionNumBuckets = "relative_attention_num_buckets"
        case relativeAttentionMaxDistance = "relative_attention_max_distance"
        case layerNormEpsilon = "layer_norm_epsilon", feedForwardProj = "feed_forward_proj"
        case denseActFn = "dense_act_fn"
    }

    public init(
        dModel: Int, dKV: Int, numHeads: Int, dFF: Int, numLayers: Int, vocabSize: Int,
        relativeAttentionNumBuckets: Int = 32, relativeAttentionMaxDistance: Int = 128,
        layerNormEpsilon: Double = 1e-6, feedForwardProj: String = "gated-gelu", denseActFn: String? = "gelu_new"
    ) {
        self.dModel = dModel
        self.dKV = dKV
        self.numHeads = numHeads
        self.dFF = dFF
        self.numLayers = numLayers
        self.vocabSize = vocabSize
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.layerNormEpsilon = layerNormEpsilon
        self.feedForwardProj = feedForwardProj
        self.denseActFn = denseActFn
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dModel = try c.decode(Int.self, forKey: .dModel)
        dKV = try c.decode(Int.self, forKey: .dKV)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        dFF = try c.decode(Int.self, forKey: .dFF)
        numLayers = try c.decode(Int.self, forKey: .numLayers)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        // transformers' defaults for keys that older configs omit.
        relativeAttentionNumBuckets = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionNumBuckets) ?? 32
        relativeAttentionMaxDistance = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionMaxDistance) ?? 128
        layerNormEpsilon = try c.decodeIfPresent(Double.self, forKey: .layerNormEpsilon) ?? 1e-6
        feedForwardProj = try c.decodeIfPresent(String.self, forKey: .feedForwardProj) ?? "relu"
        denseActFn = try c.decodeIfPresent(String.self, forKey: .denseActFn)
    }

    /// The released text encoder of Latte/PixArt-α (google/t5-v1_1-xxl).
    public static let xxl = T5Config(dModel: 4096, dKV: 64, numHeads: 64, dFF: 10240, numLayers: 24, vocabSize: 32128)

    /// numHeads · dKV.
    public var innerDim: Int { numHeads * dKV }

    /// Parameters of the encoder (embedding, blocks, relative bias, final norm).
    public var parameterCount: Int {
        let attention = 4 * dModel * innerDim
        let feedForward = 3 * dModel * dFF
        return vocabSize * dModel + numLayers * (attention + feedForward + 2 * dModel)
            + relativeAttentionNumBuckets * numHeads + dModel
    }

    /// Reads and validates `config.json`.
    public static func load(_ url: URL) throws(TextEncoderError) -> T5Config {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .config(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        let config: T5Config
        do { config = try JSONDecoder().decode(T5Config.self, from: data) } catch {
            throw .config(path: url.path, reason: "not a T5 config (\(Self.describe(error)))")
        }
        try config.validate(path: url.path)
        return config
    }

    /// Throws unless this is a well-formed T5 v1.1 encoder.
    public func validate(path: String = "config") throws(TextEncoderError) {
        for (name, value) in [
            ("d_model", dModel), ("d_kv", dKV), ("num_heads", numHeads), ("d_ff", dFF), ("num_layers", numLayers),
            ("vocab_size", vocabSize), ("relative_attention_num_buckets", relativeAttentionNumBuckets),
            ("relative_attention_max_distance", relativeAttentionMaxDistance),
        ] where value <= 0 {
            throw .config(path: path, reason: "\(name) must be positive, got \(value)")
        }
        guard relativeAttentionNumBuckets % 2 == 0, relativeAttentionNumBuckets >= 4 else {
            throw .config(
                path: path,
                reason: "relative_attention_num_buckets \(relativeAttentionNumBuckets) must be even and at least 4")
        }
        guard feedForwardProj == "gated-gelu" else {
            throw .config(
                path: path, reason: "feed_forward_proj '\(feedForwardProj)' is not supported (T5 v1.1 uses gated-gelu)")
        }
        if let act = denseActFn, act != "gelu_new", act != "gelu_pytorch_tanh" {
            throw .config(
                path: path,
                reason: "dense_act_fn '\(act)' is not supported (T5 v1.1 uses gelu_new, the tanh approximation)")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon.isFinite else {
            throw .config(path: path, reason: "layer_norm_epsilon \(layerNormEpsilon) must be positive")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "bad value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let ctx): return ctx.debugDescription
        default: return "\(error)"
        }
    }
}
