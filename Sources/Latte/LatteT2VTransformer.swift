// The text-to-video Latte-skip transformer (official text-to-video/models/latte_t2v_skip.py
// LatteT2V_skip, and latte_t2v_skip_cache.py for Skip-Cache): patch embedding + fixed 2-D
// position table, adaLN-single timestep conditioning, caption projection, 28 layers of
// (spatial block with cross-attention, temporal block) with 14 LIFO skip branches
// ([current, skip] → affine LN over 2D → Linear 2D→D, replacing the stream), final layer
// modulated by the embedded timestep, unpatchify.
//
// Legend: B batch, C latent channels, F frames, H×W latent size, p patch, S = (H/p)(W/p) tokens
// per frame, D hidden, L caption tokens, Dc caption channels.
// I/O: x (B, C, F, H, W), caption states (B, L, Dc) -> (B, 2C, F, H, W).

import TensorCore

public final class LatteT2VTransformer: @unchecked Sendable {
    public let config: LatteT2VConfig
    let engine: GEMMEngine
    let patchEmbed: Linear  // (D, C·p·p)
    let timeLinear1: Linear  // (D, 256)
    let timeLinear2: Linear  // (D, D)
    let adaLNSingle: Linear  // (6D, D)
    let captionLinear1: Linear  // (D, Dc)
    let captionLinear2: Linear  // (D, D)
    let spatialBlocks: [LatteT2VBlock]
    let temporalBlocks: [LatteT2VBlock]
    let skipNorms: [(weight: Tensor, bias: Tensor)]  // (2D)
    let skipLinears: [Linear]  // (D, 2D)
    let finalScaleShift: Tensor  // (2, D)
    let projOut: Linear  // (p·p·2C, D)

    /// Builds the model from a strict tensor lookup (name, expected shape).
    init(config c: LatteT2VConfig, engine: GEMMEngine, tensor: WeightLookup) throws {
        config = c
        self.engine = engine
        let d = c.hiddenSize, p = c.patchSize
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> Linear {
            Linear(
                weight: try tensor("\(name).weight", [out, inp]), bias: try tensor("\(name).bias", [out]),
                engine: engine)
        }
        patchEmbed = Linear(
            weight: try tensor("pos_embed.proj.weight", [d, c.inChannels, p, p]).reshaped([d, c.inChannels * p * p]),
            bias: try tensor("pos_embed.proj.bias", [d]), engine: engine)
        timeLinear1 = try linear("adaln_single.emb.timestep_embedder.linear_1", d, 256)
        timeLinear2 = try linear("adaln_single.emb.timestep_embedder.linear_2", d, d)
        adaLNSingle = try linear("adaln_single.linear", 6 * d, d)
        captionLinear1 = try linear("caption_projection.linear_1", d, c.captionChannels)
        captionLinear2 = try linear("caption_projection.linear_2", d, d)
        spatialBlocks = try (0..<c.numLayers).map {
            try LatteT2VBlock(
                prefix: "transformer_blocks.\($0)", hidden: d, mlpHidden: c.mlpHidden, crossAttention: true,
                engine: engine, tensor: tensor)
        }
        temporalBlocks = try (0..<c.numLayers).map {
            try LatteT2VBlock(
                prefix: "temporal_transformer_blocks.\($0)", hidden: d, mlpHidden: c.mlpHidden, crossAttention: false,
                engine: engine, tensor: tensor)
        }
        skipNorms = try (0..<c.skipCount).map {
            (weight: try tensor("skip_norms.\($0).weight", [2 * d]), bias: try tensor("skip_norms.\($0).bias", [2 * d]))
        }
        skipLinears = try (0..<c.skipCount).map { try linear("skip_linears.\($0).linear", d, 2 * d) }
        finalScaleShift = try tensor("scale_shift_table", [2, d])
        projOut = try linear("proj_out", p * p * c.outChannels, d)
    }

    /// One forward pass (official `forward`; with `cache`, the Latte_skip_cache behaviour).
    /// - x: (B, C, F, H, W) latents; timesteps: B integer timesteps; caption: (B, L, Dc) encoder
    ///   states; mask: (B, L) with 1 = keep (the official pipeline passes none).
    /// - chunkTokens: tokens per block chunk (the workspace size; see `BlockWorkspace`).
    /// - Returns: (B, 2C, F, H, W).
    public func forward(
        _ x: Tensor, timesteps: [Int], caption: Tensor, mask: [[Int]]? = nil, cache: inout SkipCacheState?,
        trace: ((String, Tensor) -> Void)? = nil, chunkTokens: Int = BlockWorkspace.defaultChunkTokens
    ) -> Tensor {
        let c = config, d = c.hiddenSize, p = c.patchSize
        precondition(
            x.rank == 5 && x.shape[1] == c.inChannels, "LatteT2V expects (B, \(c.inChannels), F, H, W), got \(x.shape)")
        let (b, f, h, w) = (x.shape[0], x.shape[2], x.shape[3], x.shape[4])
        precondition(h % p == 0 && w % p == 0, "latent size \(h)x\(w) is not a multiple of the patch \(p)")
        precondition(
            caption.rank == 3 && caption.shape[0] == b && caption.shape[2] == c.captionChannels,
            "caption states must be (\(b), L, \(c.captionChannels)), got \(caption.shape)")
        precondition(timesteps.count == b, "one timestep per sample")
        let (hp, wp) = (h / p, w / p), s = hp * wp
        let plan = cache?.plan(at: timesteps[0]) ?? .full
        var mode: StepMode = plan == .cached ? .cached : .full

        // Patch embedding of every frame (B·F, S, D) plus the 2-D position table.
        let frames = Layout.permute(x, [0, 2, 1, 3, 4])  // (B, F, C, H, W)
        var stream = patchEmbed(LatteKernels.patchify(frames, patch: p), engine: engine)
        let posTable = PositionTables.spatial(rows: hp, cols: wp, dim: d, baseSize: c.sampleSize / p)
        trace?("pos_embed_table", posTable)
        LatteKernels.addRowBroadcast(&stream, posTable)
        trace?("patch_embed_plus_pos", stream)

        // adaLN-single: embedded timestep (B, D) and t6 = Linear(SiLU(emb)) (B, 6D).
        let sinusoid = SinusoidalFeatures.timestep(timesteps, dim: 256)
        trace?("timestep_sinusoid_256", sinusoid)
        var hidden = timeLinear1(sinusoid, engine: engine)
        LatteKernels.siluInPlace(&hidden)
        let embedded = timeLinear2(hidden, engine: engine)
        trace?("adaln_single_embedded_timestep", embedded)
        var siluEmbedded = embedded
        LatteKernels.siluInPlace(&siluEmbedded)
        let t6 = adaLNSingle(siluEmbedded, engine: engine)
        trace?("adaln_single_t6", t6)

        // Caption projection (B, L, D) and the optional key mask (the official (1 - m)·(-10000)
        // bias: masked keys get zero weight).
        var projected = captionLinear1(caption, engine: engine)
        LatteKernels.geluTanhInPlace(projected.mutablePointer(), count: projected.count)
        projected = captionLinear2(projected, engine: engine)
        trace?("caption_projection", projected)
        let keyMask = mask.map { m in Tensor(shape: [b, caption.shape[1]], values: m.flatMap { $0.map { Float($0) } }) }

        let temporalTable = PositionTables.temporal(frames: f, dim: d)
        trace?("temp_pos_embed_table", temporalTable)
        let ws = BlockWorkspace(chunkTokens: chunkTokens)
        let layers = c.numLayers, skips = c.skipCount, branch = cache?.schedule.branch ?? 1
        let cacheLayer = layers - branch
        var stack: [Tensor] = []
        for i in 0..<layers {
            if i == branch, let m = cache?.outerPairsRan(output: stream, plan: plan, timestep: timesteps[0]) {
                mode = m
            }
            if mode == .cached && i >= branch && i < cacheLayer { continue }
            if i == cacheLayer, cache != nil {
                if mode == .full {
                    cache?.cachedStream = stream.copy()
                } else if let stored = cache?.cachedStream {
                    precondition(
                        stored.shape == stream.shape, "Skip-Cache stream \(stored.shape) does not match \(stream.shape)"
                    )
                    stream = stored
                }
            }
            if i >= layers - skips, let skip = stack.popLast() {
                let j = i - (layers - skips)
                stream = fuseSkip(stream, skip, module: j)
                trace?("skip_linear_\(j)_out", stream)
            }
            let kv = spatialBlocks[i].captionKeyValues(projected, engine: engine)
            spatialBlocks[i](
                &stream, t6: t6, rowsPerSample: f, heads: c.numAttentionHeads, caption: kv, keyMask: keyMask,
                workspace: ws, engine: engine)
            trace?("after_spatial_block_\(i)", stream)
            stream = LatteKernels.spatialToTemporal(stream, batch: b, frames: f, tokens: s)
            if i == 0 && f > 1 { LatteKernels.addFrameEmbedding(&stream, temporalTable) }
            temporalBlocks[i](
                &stream, t6: t6, rowsPerSample: s, heads: c.numAttentionHeads, caption: nil, keyMask: nil,
                workspace: ws, engine: engine)
            trace?("after_temporal_block_\(i)", stream)
            stream = LatteKernels.temporalToSpatial(stream, batch: b, frames: f, tokens: s)
            if i < skips { stack.append(stream) }
        }

        // Final layer: shift/scale = scale_shift_table + embedded timestep (not t6, not SiLU).
        var shiftScale = Tensor(zeros: [b, 2 * d])
        let ssp = shiftScale.mutablePointer()
        withExtendedLifetime((embedded, finalScaleShift)) {
            for bi in 0..<b {
                for k in 0..<2 {
                    for i in 0..<d {
                        ssp[(bi * 2 + k) * d + i] = finalScaleShift.pointer[k * d + i] + embedded.pointer[bi * d + i]
                    }
                }
            }
        }
        var normed = Tensor(zeros: stream.shape)
        let np = normed.mutablePointer()
        withExtendedLifetime((stream, shiftScale)) {
            LatteKernels.layerNormModulate(
                stream.pointer, rows: b * f, tokens: s, dim: d, shift: shiftScale.pointer,
                scale: shiftScale.pointer + d,
                modulationStride: 2 * d, rowsPerSample: f, into: np)
        }
        let out = projOut(normed, engine: engine)  // (B·F, S, p·p·2C)
        trace?("proj_out", out)
        cache?.advance(after: timesteps[0], ran: mode)
        let pixels = LatteKernels.unpatchify(
            out, batch: b, frames: f, channels: c.outChannels, rows: hp, cols: wp, patch: p)
        return Layout.permute(pixels, [0, 2, 1, 3, 4])  // (B, 2C, F, H, W)
    }

    /// [current, skip] -> affine LayerNorm over 2D (eps 1e-6, float32) -> Linear 2D→D.
    private func fuseSkip(_ x: Tensor, _ skip: Tensor, module j: Int) -> Tensor {
        let d = config.hiddenSize
        var cat = LatteKernels.concatLastDim(x, skip)
        LatteKernels.layerNormAffineInPlace(
            &cat, rows: x.count / d, dim: 2 * d, weight: skipNorms[j].weight, bias: skipNorms[j].bias, eps: 1e-6)
        return skipLinears[j](cat, engine: engine).reshaped(x.shape)
    }
}
