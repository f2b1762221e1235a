// The class-to-video Latte-XL/2-skip transformer (official class-to-video/models/latte.py,
// Latte_skip and Latte_skip_cache): patch embedding, timestep/label conditioning, 14 pairs of
// (spatial, temporal) adaLN-Zero blocks with 7 long skip branches (LIFO, [current, skip] fused by
// an affine LayerNorm over 2D and a linear 2D→D that replaces the stream), final layer, unpatchify.
//
// Legend: B batch, F frames, C latent channels, H = W latent side, p patch, G = H/p,
// T = G² tokens per frame, D hidden. Model I/O is (B, F, C, H, W) -> (B, F, 2C, H, W).
// Spatial layout S: (B·F, T, D), row b·F+f. Temporal layout Tm: (B·T, F, D), row b·T+n.

import TensorCore

public final class LatteTransformer: @unchecked Sendable {
    public let config: LatteConfig
    let engine: GEMMEngine
    let posEmbed: Tensor  // (T, D)
    let tempEmbed: Tensor  // (F, D)
    let patchEmbed: Linear  // (D, C·p·p)
    let timeMLP1: Linear  // (D, 256)
    let timeMLP2: Linear  // (D, D)
    let labelTable: Tensor?  // (classes + 1, D)
    let skipNorms: [(weight: Tensor, bias: Tensor)]  // (2D) each
    let skipLinears: [Linear]  // (D, 2D) each
    let blocks: [LatteBlock]
    let finalAdaLN: Linear  // (2D, D)
    let finalLinear: Linear  // (p·p·2C, D)

    /// Builds the model from a strict tensor lookup (name, expected shape).
    init(config c: LatteConfig, engine: GEMMEngine, tensor: WeightLookup) throws {
        config = c
        self.engine = engine
        let d = c.hiddenSize, patchIn = c.inChannels * c.patchSize * c.patchSize
        posEmbed = try tensor("pos_embed", [1, c.tokensPerFrame, d]).reshaped([c.tokensPerFrame, d])
        tempEmbed = try tensor("temp_embed", [1, c.numFrames, d]).reshaped([c.numFrames, d])
        patchEmbed = Linear(
            weight: try tensor("x_embedder.proj.weight", [d, c.inChannels, c.patchSize, c.patchSize])
                .reshaped([d, patchIn]),
            bias: try tensor("x_embedder.proj.bias", [d]), engine: engine)
        timeMLP1 = Linear(
            weight: try tensor("t_embedder.mlp.0.weight", [d, c.frequencyEmbeddingSize]),
            bias: try tensor("t_embedder.mlp.0.bias", [d]), engine: engine)
        timeMLP2 = Linear(
            weight: try tensor("t_embedder.mlp.2.weight", [d, d]), bias: try tensor("t_embedder.mlp.2.bias", [d]),
            engine: engine)
        if let classes = c.numClasses {
            labelTable = try tensor("y_embedder.embedding_table.weight", [classes + 1, d])
        } else {
            labelTable = nil
        }
        var norms: [(Tensor, Tensor)] = []
        var fusions: [Linear] = []
        for j in 0..<c.skipCount {
            norms.append((try tensor("skip_norms.\(j).weight", [2 * d]), try tensor("skip_norms.\(j).bias", [2 * d])))
            fusions.append(
                Linear(
                    weight: try tensor("skip_linears.\(j).linear.weight", [d, 2 * d]),
                    bias: try tensor("skip_linears.\(j).linear.bias", [d]), engine: engine))
        }
        skipNorms = norms.map { (weight: $0.0, bias: $0.1) }
        skipLinears = fusions
        blocks = try (0..<c.depth).map {
            try LatteBlock(prefix: "blocks.\($0)", config: c, engine: engine, tensor: tensor)
        }
        let outPerToken = c.patchSize * c.patchSize * c.outChannels
        finalAdaLN = Linear(
            weight: try tensor("final_layer.adaLN_modulation.1.weight", [2 * d, d]),
            bias: try tensor("final_layer.adaLN_modulation.1.bias", [2 * d]), engine: engine)
        finalLinear = Linear(
            weight: try tensor("final_layer.linear.weight", [outPerToken, d]),
            bias: try tensor("final_layer.linear.bias", [outPerToken]), engine: engine)
    }

    /// One forward pass (official `forward`).
    /// - x: (B, F, C, H, W) latents; timesteps: B original timesteps (0…999);
    ///   labels: B class ids (class-conditional models; the null id is numClasses), nil otherwise.
    /// - cache: the render's Skip-Cache state; nil runs the plain Latte_skip forward.
    /// - trace: receives named intermediates in the official layouts (for conformance checks).
    /// - chunkTokens: tokens per block chunk (the workspace size; see `BlockWorkspace`).
    /// - Returns: (B, F, 2C, H, W): eps in channels [0, C), the variance value v in [C, 2C).
    public func forward(
        _ x: Tensor, timesteps: [Int], labels: [Int]?, cache: inout SkipCacheState?,
        trace: ((String, Tensor) -> Void)? = nil,
        chunkTokens: Int = BlockWorkspace.defaultChunkTokens
    ) -> Tensor {
        let c = config
        let (b, f, d, t) = (x.shape[0], c.numFrames, c.hiddenSize, c.tokensPerFrame)
        precondition(
            x.shape == [b, c.numFrames, c.inChannels, c.latentSize, c.latentSize],
            "Latte expects (B, \(c.numFrames), \(c.inChannels), \(c.latentSize), \(c.latentSize)), got \(x.shape)")
        precondition(timesteps.count == b, "one timestep per sample")
        precondition(
            (labels != nil) == c.isClassConditional, "labels are required exactly for class-conditional models")
        let plan = cache?.plan(at: timesteps[0]) ?? .full
        var mode: StepMode = plan == .cached ? .cached : .full

        // Patch embedding (B·F, T, D), then + pos_embed.
        var h = patchEmbed(LatteKernels.patchify(x, patch: c.patchSize), engine: engine)
        trace?("patch_embed_out", h)
        LatteKernels.addRowBroadcast(&h, posEmbed)

        // Conditioning: c = t_emb (+ y_emb), then SiLU(c) feeds every adaLN projection.
        let tFreq = SinusoidalFeatures.timestep(timesteps, dim: c.frequencyEmbeddingSize)
        var tHidden = timeMLP1(tFreq, engine: engine)
        LatteKernels.siluInPlace(&tHidden)
        var cond = timeMLP2(tHidden, engine: engine)
        trace?("t_emb", cond)
        if let labels, let table = labelTable {
            let yEmb = LatteKernels.gatherRows(table, labels)
            trace?("y_emb", yEmb)
            LatteKernels.addInPlace(&cond, yEmb)
        }
        var siluCond = cond
        LatteKernels.siluInPlace(&siluCond)

        // Block pairs with skip push/pop; on cached steps only the outer `branch` pairs run.
        let ws = BlockWorkspace(chunkTokens: chunkTokens)
        let pairs = c.pairs, skips = c.skipCount, branch = cache?.schedule.branch ?? 1
        let cachePair = pairs - branch
        var stack: [Tensor] = []
        for k in 0..<pairs {
            if k == branch, let m = cache?.outerPairsRan(output: h, plan: plan, timestep: timesteps[0]) { mode = m }
            if mode == .cached && k >= branch && k < cachePair { continue }
            if k == cachePair, cache != nil {
                if mode == .full {
                    cache?.cachedStream = h.copy()
                } else if let stored = cache?.cachedStream {
                    precondition(
                        stored.shape == h.shape, "Skip-Cache stream \(stored.shape) does not match batch \(h.shape)")
                    h = stored
                }
            }
            if k >= pairs - skips, let skip = stack.popLast() {
                let j = k - (pairs - skips)
                h = fuseSkip(h, skip, module: j)
                if j == 0 { trace?("skip_linear0_out", h) }
            }
            blocks[2 * k](&h, siluCond: siluCond, rowsPerSample: f, heads: c.numHeads, workspace: ws, engine: engine)
            trace?(String(format: "block%02d_spatial_out", 2 * k), h)
            h = LatteKernels.spatialToTemporal(h, batch: b, frames: f, tokens: t)
            if k == 0 { LatteKernels.addFrameEmbedding(&h, tempEmbed) }
            blocks[2 * k + 1](
                &h, siluCond: siluCond, rowsPerSample: t, heads: c.numHeads, workspace: ws, engine: engine)
            trace?(String(format: "block%02d_temporal_out", 2 * k + 1), h)
            h = LatteKernels.temporalToSpatial(h, batch: b, frames: f, tokens: t)
            if k < skips { stack.append(h) }
        }

        // Final layer: LN, modulate (shift, scale), linear; then unpatchify.
        trace?("final_layer_in", h)
        let mod = finalAdaLN(siluCond, engine: engine)  // (B, 2D)
        var normed = Tensor(zeros: h.shape)
        let np = normed.mutablePointer()
        withExtendedLifetime((h, mod)) {
            LatteKernels.layerNormModulate(
                h.pointer, rows: b * f, tokens: t, dim: d, shift: mod.pointer, scale: mod.pointer + d,
                modulationStride: 2 * d, rowsPerSample: f, into: np)
        }
        let o = finalLinear(normed, engine: engine)  // (B·F, T, p·p·2C)
        trace?("final_layer_out", o)
        cache?.advance(after: timesteps[0], ran: mode)
        return LatteKernels.unpatchify(
            o, batch: b, frames: f, channels: c.outChannels, rows: c.gridSize, cols: c.gridSize, patch: c.patchSize)
    }

    /// [current, skip] -> affine LayerNorm over 2D (eps 1e-6) -> Linear 2D→D (replaces the stream).
    private func fuseSkip(_ h: Tensor, _ skip: Tensor, module j: Int) -> Tensor {
        let d = config.hiddenSize
        let rows = h.count / d
        var cat = LatteKernels.concatLastDim(h, skip)
        LatteKernels.layerNormAffineInPlace(
            &cat, rows: rows, dim: 2 * d, weight: skipNorms[j].weight, bias: skipNorms[j].bias, eps: 1e-6)
        return skipLinears[j](cat, engine: engine).reshaped(h.shape)
    }
}
