// Strict loading of decoder parameters over a Checkpoints `WeightStore`: each parameter is
// declared once with its current diffusers name and expected shape; the reader looks it up under
// the file's naming convention (detected once), and `finish()` reports every decoder tensor of
// the file that nothing used. Tensors outside the decoder's prefixes (encoder.*, quant_conv.*,
// the rest of a full SD checkpoint) are ignored.

import Checkpoints
import Foundation
import TensorCore

/// Reads declared parameters from a checkpoint, by current diffusers name.
final class ParameterReader {
    let store: WeightStore
    let naming: VAEKeyNaming
    let prefix: String
    let levels: Int

    /// `owned`: name prefixes (after a checkpoint prefix) of the tensors the decoder must use.
    init(_ stateDict: StateDict, levels: Int, owned: [String]) throws(VAEError) {
        (naming, prefix) = VAEKeyNaming.detect(stateDict.names)
        do { store = try WeightStore(stateDict) } catch { throw .weights(error, naming: nil) }
        self.levels = levels
        for name in stateDict.names {
            let local = name.hasPrefix(prefix) ? name.dropFirst(prefix.count) : name[...]
            if !name.hasPrefix(prefix) || !owned.contains(where: { local.hasPrefix($0) }) { store.ignore(prefix: name) }
        }
    }

    /// Opens a weights file (or a model folder's weights file) and reads it with `levels` levels.
    convenience init(weights url: URL, levels: Int, owned: [String]) throws(VAEError) {
        let dict: StateDict
        do { dict = try Checkpoint.open(url).stateDict() } catch { throw .weights(error, naming: nil) }
        try self.init(dict, levels: levels, owned: owned)
    }

    /// The tensor declared as `name` with shape `shape`. With `linear`, 1x1-conv layouts
    /// ([C_out, C_in, 1] or [C_out, C_in, 1, 1], LDM attention) are accepted for a [C_out, C_in] weight.
    func tensor(_ name: String, shape: [Int], linear: Bool = false) throws(VAEError) -> Tensor {
        let fileName = prefix + naming.fileName(for: name, levels: levels)
        do { return try store.tensor(fileName, shape: shape, acceptingTrailingOnes: linear) } catch {
            throw .weights(error, naming: naming)
        }
    }

    /// Throws if any decoder tensor of the file was not read.
    func finish() throws(VAEError) {
        do { try store.requireAllUsed() } catch { throw .weights(error, naming: naming) }
    }
}
