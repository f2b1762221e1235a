// Typed errors of the checkpoint readers (torch zip/pickle, safetensors, sharded folders) and of the
// strict weight store. Each case names the file and, where there is one, the tensor, plus a hint.

import Foundation

/// An error reading a checkpoint or looking up a weight in it.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, stat'ed or mapped.
    case io(path: String, reason: String)
    /// The file is not in any format this module reads.
    case unknownFormat(path: String, hint: String)
    /// The zip container is malformed (bad signature, offset out of range, unsupported feature).
    case badZip(path: String, reason: String)
    /// The pickle is malformed or uses something outside the allow-list; `offset` is a byte offset in data.pkl.
    case badPickle(path: String, offset: Int, reason: String)
    /// A pickle GLOBAL that is not on the allow-list (never imported or called).
    case forbiddenGlobal(path: String, offset: Int, global: String)
    /// A safetensors header is malformed.
    case badHeader(path: String, reason: String)
    /// A tensor's dtype, shape, strides or data range is invalid or does not fit its storage.
    case badTensor(path: String, tensor: String, reason: String)
    /// The checkpoint's structure is not what the loader expects (e.g. no "ema"/"model" entry).
    case badStructure(path: String, reason: String, hint: String)
    /// A sharded checkpoint's index is malformed or names a missing shard or tensor.
    case badIndex(path: String, reason: String)
    /// A weight the model needs is absent.
    case missingTensor(path: String, tensor: String, suggestions: [String])
    /// A weight has the wrong shape.
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    /// Tensors in the file that the model did not use.
    case unusedTensors(path: String, tensors: [String])
    /// Two names map to the same tensor name after renaming, or shards repeat a name.
    case duplicateTensor(path: String, tensor: String)

    public var description: String {
        switch self {
        case .io(let p, let r): return "\(p): \(r)"
        case .unknownFormat(let p, let h): return "\(p): not a recognised checkpoint; hint: \(h)"
        case .badZip(let p, let r):
            return
                "\(p): malformed PyTorch zip archive (\(r)); hint: the file may be truncated or not a torch.save file"
        case .badPickle(let p, let o, let r):
            return "\(p): data.pkl offset \(o): \(r); hint: only plain state dicts of tensors can be read"
        case .forbiddenGlobal(let p, let o, let g):
            return "\(p): data.pkl offset \(o): refusing pickle global '\(g)' (not on the allow-list of a "
                + "state dict; nothing was executed); hint: save only the state dict, or convert to safetensors"
        case .badHeader(let p, let r): return "\(p): malformed safetensors header (\(r))"
        case .badTensor(let p, let t, let r): return "\(p): tensor '\(t)': \(r)"
        case .badStructure(let p, let r, let h): return "\(p): \(r); hint: \(h)"
        case .badIndex(let p, let r): return "\(p): bad shard index (\(r))"
        case .missingTensor(let p, let t, let s):
            let hint = s.isEmpty ? "" : "; close names in the file: " + s.joined(separator: ", ")
            return "\(p): missing tensor '\(t)'\(hint)"
        case .shapeMismatch(let p, let t, let e, let a):
            return
                "\(p): tensor '\(t)' has shape \(a), expected \(e); hint: the checkpoint does not match the model config"
        case .unusedTensors(let p, let t):
            let shown = t.prefix(20).joined(separator: ", ") + (t.count > 20 ? ", … (\(t.count) in all)" : "")
            return
                "\(p): \(t.count) tensor(s) in the file were not used: \(shown); hint: wrong model variant or config?"
        case .duplicateTensor(let p, let t): return "\(p): tensor name '\(t)' occurs twice"
        }
    }
}
