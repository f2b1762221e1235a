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
