// The decoded structure of a checkpoint: nested dicts (in file order) whose leaves are stored
// tensors or plain values, and `StateDict`, a flat name -> tensor map with the file's order.

import Foundation

/// A value in a checkpoint's structure (what data.pkl holds, or the tensor map of a safetensors file).
public indirect enum CheckpointValue: Sendable {
    case dict(CheckpointDict)
    /// Lists and tuples.
    case list([CheckpointValue])
    case tensor(StoredTensor)
    case string(String)
    case int(Int)
    case float(Double)
    case bool(Bool)
    /// A bytes object (contents are not kept).
    case bytes(count: Int)
    case none
}

/// A dict with string keys in insertion order (int keys are written in decimal).
public struct CheckpointDict: Sendable {
    /// Keys in file order.
    public let keys: [String]
    let values: [String: CheckpointValue]

    public init(keys: [String], values: [String: CheckpointValue]) {
        self.keys = keys
        self.values = values
    }

    public subscript(key: String) -> CheckpointValue? { values[key] }
}

/// A flat map of tensor names to stored tensors, in file order.
public struct StateDict: Sendable {
    /// The file (or index) the tensors come from; used in errors.
    public let path: String
    /// Names in file order.
    public let names: [String]
    public let tensors: [String: StoredTensor]

    public init(path: String, names: [String], tensors: [String: StoredTensor]) {
        self.path = path
        self.names = names
        self.tensors = tensors
    }

    /// Builds a state dict from a dict whose values must all be tensors.
    init(path: String, dict: CheckpointDict, context: String) throws(CheckpointError) {
        var tensors: [String: StoredTensor] = [:]
        for k in dict.keys {
            guard case .tensor(let t)? = dict[k] else {
                throw .badStructure(
                    path: path, reason: "\(context)entry '\(k)' is not a tensor",
                    hint: "expected a state dict (name -> tensor)")
            }
            tensors[k] = t
        }
        self.init(path: path, names: dict.keys, tensors: tensors)
    }

    public var count: Int { names.count }
    public subscript(name: String) -> StoredTensor? { tensors[name] }
}
