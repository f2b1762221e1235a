// Building the decoders' layers from declared parameters: each builder names the parameters of
// one diffusers module (current names, expected shapes) and reads them through `ParameterReader`.

import TensorCore

extension ParameterReader {
    func groupNorm(_ name: String, channels: Int, groups: Int, epsilon: Float) throws(VAEError) -> GroupNorm {
        GroupNorm(
            groups: groups, epsilon: epsilon, gamma: try tensor(name + ".weight", shape: [channels]),
            beta: try tensor(name + ".bias", shape: [channels]))
    }

    func conv(_ name: String, in ci: Int, out co: Int, kernel k: Int, engine: GEMMEngine) throws(VAEError) -> Conv2D {
        Conv2D(
            weight: try tensor(name + ".weight", shape: [co, ci, k, k]), bias: try tensor(name + ".bias", shape: [co]),
            engine: engine)
    }

    func upsampler(_ name: String, channels c: Int, engine: GEMMEngine) throws(VAEError) -> UpsampleConv {
        UpsampleConv(
            weight: try tensor(name + ".conv.weight", shape: [c, c, 3, 3]),
            bias: try tensor(name + ".conv.bias", shape: [c]),
            engine: engine)
    }

    /// A ResnetBlock2D (norm1, conv1, norm2, conv2, conv_shortcut when the width changes).
    func resnet(
        _ name: String, in ci: Int, out co: Int, groups: Int, epsilon: Float, engine: GEMMEngine
    ) throws(VAEError) -> ResnetBlock2D {
        ResnetBlock2D(
            norm1: try groupNorm(name + ".norm1", channels: ci, groups: groups, epsilon: epsilon),
            conv1: try conv(name + ".conv1", in: ci, out: co, kernel: 3, engine: engine),
            norm2: try groupNorm(name + ".norm2", channels: co, groups: groups, epsilon: epsilon),
            conv2: try conv(name + ".conv2", in: co, out: co, kernel: 3, engine: engine),
            shortcut: ci == co ? nil : try conv(name + ".conv_shortcut", in: ci, out: co, kernel: 1, engine: engine))
    }

    /// The mid-block attention: group_norm, to_q, to_k, to_v, to_out.0.
    func attention(
        _ name: String, channels c: Int, groups: Int, epsilon: Float, engine: GEMMEngine
    ) throws(VAEError) -> SpatialAttention {
        func linear(_ n: String) throws(VAEError) -> (Tensor, Tensor) {
            (
                try tensor(name + "." + n + ".weight", shape: [c, c], linear: true),
                try tensor(name + "." + n + ".bias", shape: [c])
            )
        }
        return SpatialAttention(
            norm: try groupNorm(name + ".group_norm", channels: c, groups: groups, epsilon: epsilon),
            q: try linear("to_q"), k: try linear("to_k"), v: try linear("to_v"), out: try linear("to_out.0"),
            engine: engine)
    }
}
