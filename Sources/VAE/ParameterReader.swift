// Strict loading of decoder parameters over a Checkpoints `WeightStore`: each parameter is
// declared once with its current diffusers name and expected shape; the reader looks it up under
// the file's naming convention (detected once), and `finish()` reports every decoder tensor of
// the file that nothing used. Tensors outside the decoder's prefixes (encoder.*, quant_conv.*,
// the rest of a full SD checkpoint) are ignored.

import Checkpoints
import Foundation
import TensorCore

/// Reads declared parameters from a checkpoint, by current diffusers name (or makes them up, for
/// benchmarks).
final class ParameterReader {
    /// nil: random parameters.
    let store: WeightStore?
    let naming: VAEKeyNaming
    let prefix: String
    let levels: Int
    private var random: RandomParameters?

    /// `owned`: name prefixes (after a checkpoint prefix) of the tensors the decoder must use.
    init(_ stateDict: StateDict, levels: Int, owned: [String]) throws(VAEError) {
        (naming, prefix) = VAEKeyNaming.detect(stateDict.names)
        let store: WeightStore
        do { store = try WeightStore(stateDict) } catch { throw .weights(error, naming: nil) }
        self.store = store
        self.levels = levels
        for name in stateDict.names {
            let local = name.hasPrefix(prefix) ? name.dropFirst(prefix.count) : name[...]
            if !name.hasPrefix(prefix) || !owned.contains(where: { local.hasPrefix($0) }) { store.ignore(prefix: name) }
        }
    }

    /// Opens a weights file (or a model folder's weights file) and reads it with `levels` levels.
    convenience init(weights url: URL, levels: Int, owned: [String]) throws(VAEError) {
        try self.init(VAEWeights.stateDict(url), levels: levels, owned: owned)
    }

    /// Random parameters (seeded), drawn on request with the declared shapes: for benchmarks.
    init(randomWithSeed seed: UInt64, levels: Int) {
        store = nil
        naming = .diffusers
        prefix = ""
        self.levels = levels
        random = RandomParameters(seed: seed)
    }

    /// The tensor declared as `name` with shape `shape`. With `linear`, 1x1-conv layouts
    /// ([C_out, C_in, 1] or [C_out, C_in, 1, 1], LDM attention) are accepted for a [C_out, C_in] weight.
    func tensor(_ name: String, shape: [Int], linear: Bool = false) throws(VAEError) -> Tensor {
        guard let store else { return random?.tensor(name, shape: shape) ?? Tensor(zeros: shape) }
        let fileName = prefix + naming.fileName(for: name, levels: levels)
        do { return try store.tensor(fileName, shape: shape, acceptingTrailingOnes: linear) } catch {
            throw .weights(error, naming: naming)
        }
    }

    /// Throws if any decoder tensor of the file was not read.
    func finish() throws(VAEError) {
        do { try store?.requireAllUsed() } catch { throw .weights(error, naming: naming) }
    }
}

/// Plausible random parameters: weights uniform with variance 1/fan_in, biases small, GroupNorm
/// scales near 1 (xorshift64*, so a seed always gives the same model).
struct RandomParameters {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    private mutating func uniform() -> Float {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Float((state &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 24) * 2 - 1
    }

    mutating func tensor(_ name: String, shape: [Int]) -> Tensor {
        var t = Tensor(zeros: shape)
        let fanIn = shape.dropFirst().reduce(1, *)
        let isNorm = name.contains("norm")
        let scale: Float = shape.count >= 2 ? (3 / Float(fanIn)).squareRoot() : 0.05
        let offset: Float = shape.count == 1 && isNorm && name.hasSuffix(".weight") ? 1 : 0
        let p = t.mutablePointer()
        for i in 0..<t.count { p[i] = offset + scale * uniform() }
        return t
    }
}
