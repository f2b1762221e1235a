// Loading the Latte transformers from their released files, strictly: every tensor is looked up
// with its expected shape (errors name the tensor), and tensors nobody uses are an error.

import Checkpoints
import Foundation
import TensorCore

extension LatteTransformer {
    /// Loads a class-to-video checkpoint (`*-skip.pt`): the state dict under "ema", else "model"
    /// (the official utils.find_model rule). `numHeads` nil takes the official value for the
    /// hidden size (LatteConfig.officialHeads).
    public static func load(checkpoint url: URL, numHeads: Int? = nil, engine: GEMMEngine) throws -> LatteTransformer {
        let stateDict = try Checkpoint.open(url).stateDict(preferring: ["ema", "model"])
        let store = try WeightStore(stateDict)
        let config = try LatteConfig(shapes: stateDict.tensors.mapValues(\.shape), numHeads: numHeads)
        let model = try LatteTransformer(config: config, engine: engine) { name, shape in
            try store.tensor(name, shape: shape)
        }
        try store.requireAllUsed()
        return model
    }
}

extension LatteT2VTransformer {
    /// Loads the text-to-video transformer as sample_t2v.py does: the config and base weights from
    /// `<base>/transformer/`, then every tensor of the skip checkpoint's "ema" (else "model")
    /// state dict overrides the base. The skip state dict must be fully used, except the
    /// training-only `caption_projection.y_embedding`.
    /// - videoLength: frames per video (the sample script's override of the config, 16).
    public static func load(
        baseFolder: URL, skipCheckpoint: URL, videoLength: Int? = nil, engine: GEMMEngine
    ) throws -> LatteT2VTransformer {
        let transformerFolder = baseFolder.appendingPathComponent("transformer")
        var config = try LatteT2VConfig.load(transformerFolder.appendingPathComponent("config.json"))
        if let videoLength { config.videoLength = videoLength }
        let base = try WeightStore(try Checkpoint.open(try diffusersWeights(in: transformerFolder)).stateDict())
        let skip = try WeightStore(try Checkpoint.open(skipCheckpoint).stateDict(preferring: ["ema", "model"]))
        skip.ignore(prefix: "caption_projection.y_embedding")
        let model = try LatteT2VTransformer(config: config, engine: engine) { name, shape in
            try (skip.contains(name) ? skip : base).tensor(name, shape: shape)
        }
        try skip.requireAllUsed()
        return model
    }

    /// diffusion_pytorch_model.safetensors, its sharded index, or the .bin equivalent.
    static func diffusersWeights(in folder: URL) throws -> URL {
        let candidates = [
            "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json",
            "diffusion_pytorch_model.bin", "diffusion_pytorch_model.bin.index.json",
        ]
        for name in candidates {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw LatteError.missingTensor(
            "\(folder.path)/diffusion_pytorch_model.*", hint: "expected one of \(candidates.joined(separator: ", "))")
    }
}

/// Random weights (N(0, 1/fan_in) matrices, 0.02-scaled vectors) for benchmarks: the cost of a
/// forward does not depend on the values.
func randomWeights(seed: UInt64) -> WeightLookup {
    var stream: UInt64 = 0
    return { _, shape in
        stream += 1
        let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : shape[0]
        let scale = shape.count > 1 ? 1 / Float(fanIn).squareRoot() : 0.02
        return RandomNormal.tensor(shape: shape, seed: seed, stream: stream, scale: scale)
    }
}

extension LatteTransformer {
    /// A model with random weights, for benchmarks.
    public static func random(config: LatteConfig, seed: UInt64 = 0, engine: GEMMEngine) throws -> LatteTransformer {
        try LatteTransformer(config: config, engine: engine, tensor: randomWeights(seed: seed))
    }
}

extension LatteT2VTransformer {
    /// A model with random weights, for benchmarks.
    public static func random(config: LatteT2VConfig, seed: UInt64 = 0, engine: GEMMEngine) throws
        -> LatteT2VTransformer
    {
        try LatteT2VTransformer(config: config, engine: engine, tensor: randomWeights(seed: seed))
    }
}
