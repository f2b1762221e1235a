// Arithmetic cost of the class-to-video Latte forward as skipdit runs it (adaLN projected once per
// sample), counted as in spec class-to-video.md §12: multiply-accumulates (MAC), FLOPs = 2·MAC.

extension LatteConfig {
    /// The released Latte-XL/2 size (D 1152, 16 heads, depth 28, p 2, 4 latent channels, learned sigma).
    public static func xl2(numClasses: Int?, frames: Int = 16, latentSize: Int = 32) -> LatteConfig {
        LatteConfig(
            hiddenSize: 1152, depth: 28, numHeads: 16, patchSize: 2, inChannels: 4, outChannels: 8, numFrames: frames,
            latentSize: latentSize, numClasses: numClasses, mlpHidden: 4608, frequencyEmbeddingSize: 256)
    }

    /// FLOPs of one forward at `batch` samples, full or cached (branch 1: pairs 0 and 13).
    public func forwardFLOPs(batch b: Int, mode: StepMode, branch: Int = 1) -> Double {
        let d = Double(hiddenSize), t = Double(tokensPerFrame), f = Double(numFrames), bb = Double(b)
        let tokens = bb * f * t
        let blockLinear = tokens * 12 * d * d + tokens * d * Double(mlpHidden - 4 * hiddenSize) * 2
        let spatialAttention = bb * f * 2 * t * t * d
        let temporalAttention = bb * t * 2 * f * f * d
        let adaLN = bb * 6 * d * d
        let runPairs = mode == .full ? pairs : 2 * branch
        let fusions = mode == .full ? skipCount : branch
        var mac = Double(runPairs) * (2 * blockLinear + spatialAttention + temporalAttention + 2 * adaLN)
        mac += Double(fusions) * tokens * 2 * d * d
        let patchIn = Double(inChannels * patchSize * patchSize), patchOut = Double(patchSize * patchSize * outChannels)
        mac += tokens * patchIn * d + tokens * d * patchOut + bb * 2 * d * d
        mac += bb * (Double(frequencyEmbeddingSize) * d + d * d)
        return 2 * mac
    }
}

extension LatteConfig {
    /// A configuration given directly (benchmarks, tests); checkpoints use `init(shapes:numHeads:)`.
    public init(
        hiddenSize: Int, depth: Int, numHeads: Int, patchSize: Int, inChannels: Int, outChannels: Int, numFrames: Int,
        latentSize: Int, numClasses: Int?, mlpHidden: Int, frequencyEmbeddingSize: Int
    ) {
        self.hiddenSize = hiddenSize
        self.depth = depth
        self.numHeads = numHeads
        self.patchSize = patchSize
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.numFrames = numFrames
        self.latentSize = latentSize
        self.numClasses = numClasses
        self.mlpHidden = mlpHidden
        self.frequencyEmbeddingSize = frequencyEmbeddingSize
    }
}

extension LatteT2VConfig {
    /// The released Latte T2V size (PixArt-α XL/2-512 lineage: 16 heads of 72, 28 layers, T5-XXL captions).
    public static let released = LatteT2VConfig(
        numAttentionHeads: 16, attentionHeadDim: 72, inChannels: 4, outChannels: 8, numLayers: 28, patchSize: 2,
        sampleSize: 64, videoLength: 16, captionChannels: 4096, crossAttentionDim: 1152, normEps: 1e-6,
        activationFn: "gelu-approximate", attentionBias: true, normType: "ada_norm_single", normElementwiseAffine: false
    )

    /// FLOPs of one forward at `batch` with `captionTokens` caption tokens, full or cached (layers 0
    /// and 27 and one skip merge), as skipdit runs it (caption keys/values once per sample).
    public func forwardFLOPs(batch b: Int, frames f: Int, captionTokens l: Int, mode: StepMode) -> Double {
        let d = Double(hiddenSize), bb = Double(b), ff = Double(f)
        let s = Double((sampleSize / patchSize) * (sampleSize / patchSize))
        let tokens = bb * ff * s
        let mlp = Double(mlpHidden)
        let selfBlock = tokens * (4 * d * d + 2 * d * mlp)  // qkv, out, FF
        let spatialAttention = bb * ff * 2 * s * s * d
        let temporalAttention = bb * s * 2 * ff * ff * d
        let cross = tokens * 2 * d * d + bb * Double(l) * 2 * d * d + bb * ff * 2 * s * Double(l) * d
        let layer = 2 * selfBlock + spatialAttention + temporalAttention + cross
        let layers = mode == .full ? Double(numLayers) : 2
        let merges = mode == .full ? Double(skipCount) : 1
        var mac = layers * layer + merges * tokens * 2 * d * d
        let patchIn = Double(inChannels * patchSize * patchSize), patchOut = Double(patchSize * patchSize * outChannels)
        mac += tokens * (patchIn + patchOut) * d
        mac += bb * Double(l) * (Double(captionChannels) * d + d * d) + bb * (256 * d + d * d + 6 * d * d)
        return 2 * mac
    }
}
