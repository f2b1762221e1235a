// Configurations of the released architectures at tiny widths (2 heads, 32 channels, 4 frames of
// 8x8 latents), for tests that build random models rather than load fixtures.

import Foundation
import Latte

public enum TinyModels {
    /// Latte-XL/2-skip's layout (adaLN-Zero blocks, long skips) with `depth` blocks of width 32.
    public static func classToVideo(depth: Int, classes: Int) -> LatteConfig {
        LatteConfig(
            hiddenSize: 32, depth: depth, numHeads: 2, patchSize: 2, inChannels: 4, outChannels: 8, numFrames: 4,
            latentSize: 8, numClasses: classes, mlpHidden: 128, frequencyEmbeddingSize: 256)
    }

    /// The Latte T2V transformer's config.json at width 32 with `layers` layers, 32 caption channels.
    public static func textToVideo(layers: Int) throws -> LatteT2VConfig {
        try JSONDecoder().decode(
            LatteT2VConfig.self,
            from: Data(
                """
                {"num_attention_heads": 2, "attention_head_dim": 16, "in_channels": 4, "out_channels": 8,
                 "num_layers": \(layers), "patch_size": 2, "sample_size": 8, "video_length": 4, "caption_channels": 32,
                 "cross_attention_dim": 32, "norm_eps": 1e-6, "activation_fn": "gelu-approximate",
                 "attention_bias": true, "norm_type": "ada_norm_single", "norm_elementwise_affine": false}
                """.utf8))
    }
}
