// Strict weight lookup for model loaders: every tensor is asked for by name and shape; a missing
// name (with close names suggested), a wrong shape, or a tensor nobody asked for is an error naming
// the tensor. Names can be remapped once (e.g. legacy VAE names) and looked up under a prefix.

import Foundation
import TensorCore

/// A state dict with strict, usage-tracked lookup. Scoped views share the usage record.
public final class WeightStore: @unchecked Sendable {
    /// The checkpoint path used in errors.
    public let path: String
    /// Prefix of this view ("" for the root).
    public let prefix: String
    private let shared: Shared

    private final class Shared: @unchecked Sendable {
        let tensors: [String: StoredTensor]
        let order: [String]
        /// Canonical name -> name in the file, where they differ.
        let fileNames: [String: String]
        let lock = NSLock()
        var used: Set<String> = []
        init(tensors: [String: StoredTensor], order: [String], fileNames: [String: String]) {
            self.tensors = tensors
            self.order = order
            self.fileNames = fileNames
        }
    }

    /// A store over `stateDict`. `rename` maps each file name to the name the model uses (return nil
    /// to drop a tensor the model never needs); two names mapping to one is an error.
    public init(_ stateDict: StateDict, rename: ((String) -> String?)? = nil) throws(CheckpointError) {
        var tensors: [String: StoredTensor] = [:]
        var order: [String] = []
        var fileNames: [String: String] = [:]
        for fileName in stateDict.names {
            guard let t = stateDict[fileName] else { continue }
            guard let name = rename.map({ $0(fileName) }) ?? fileName else { continue }
            guard tensors[name] == nil else { throw .duplicateTensor(path: stateDict.path, tensor: name) }
            tensors[name] = t
            order.append(name)
            if name != fileName { fileNames[name] = fileName }
        }
        path = stateDict.path
        prefix = ""
        shared = Shared(tensors: tensors, order: order, fileNames: fileNames)
    }

    private init(path: String, prefix: String, shared: Shared) {
        self.path = path
        self.prefix = prefix
        self.shared = shared
    }

    /// A view whose names are relative to `prefix` (e.g. "blocks.3."); usage is shared with this store.
    public func scoped(_ prefix: String) -> WeightStore {
        WeightStore(path: path, prefix: self.prefix + prefix, shared: shared)
    }

    /// All names under this view's prefix (relative to it), in file order.
    public var names: [String] {
        shared.order.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// True if `name` (relative to the prefix) exists; does not mark it used.
    public func contains(_ name: String) -> Bool { shared.tensors[prefix + name] != nil }

    /// The stored tensor `name` (relative to the prefix), marked used.
    public func stored(_ name: String) throws(CheckpointError) -> StoredTensor {
        let full = prefix + name
        guard let t = shared.tensors[full] else {
            throw .missingTensor(path: path, tensor: full, suggestions: suggestions(for: full))
        }
        shared.lock.lock()
        shared.used.insert(full)
        shared.lock.unlock()
        return t
    }

    /// The tensor `name` as Float32 with exactly `shape` (zero-copy for contiguous float32 storage).
    /// With `acceptingTrailingOnes`, a stored shape of `shape` followed by size-1 dims is also
    /// accepted and reshaped (LDM's [C, C, 1, 1] 1x1-conv attention weights read as [C, C]).
    public func tensor(_ name: String, shape: [Int], acceptingTrailingOnes: Bool = false) throws(CheckpointError)
        -> Tensor
    {
        let t = try stored(name)
        var actual = t.shape
        if acceptingTrailingOnes {
            while actual.count > shape.count, actual.last == 1 { actual.removeLast() }
        }
        guard actual == shape else {
            throw .shapeMismatch(path: path, tensor: displayName(prefix + name), expected: shape, actual: t.shape)
        }
        let f = t.float32()
        return actual == t.shape ? f : f.reshaped(shape)
    }

    /// The tensor `name` as Float32 in whatever shape it is stored.
    public func tensor(_ name: String) throws(CheckpointError) -> Tensor { try stored(name).float32() }

    /// Marks every tensor under `prefix` (relative to this view) as used, e.g. a VAE's encoder.* that a
    /// decoder never reads. Returns how many were marked.
    @discardableResult
    public func ignore(prefix ignored: String) -> Int {
        let p = prefix + ignored
        let matches = shared.order.filter { $0.hasPrefix(p) }
        shared.lock.lock()
        shared.used.formUnion(matches)
        shared.lock.unlock()
        return matches.count
    }

    /// Names (full, in file order) that were never looked up or ignored.
    public var unusedNames: [String] {
        shared.lock.lock()
        defer { shared.lock.unlock() }
        return shared.order.filter { !shared.used.contains($0) }.map(displayName)
    }

    /// Throws `.unusedTensors` listing every tensor nobody used.
    public func requireAllUsed() throws(CheckpointError) {
        let unused = unusedNames
        guard unused.isEmpty else { throw .unusedTensors(path: path, tensors: unused) }
    }

    /// A canonical name, with the file's own name added when renaming changed it.
    private func displayName(_ name: String) -> String {
        if let f = shared.fileNames[name] { return "\(name) (stored as \(f))" }
        return name
    }

    /// Up to three existing names closest to `name` by edit distance.
    private func suggestions(for name: String) -> [String] {
        let target = Array(name.utf8)
        let limit = max(3, target.count / 3)
        var scored: [(Int, String)] = []
        for candidate in shared.order {
            let d = Self.editDistance(target, Array(candidate.utf8), limit: limit)
            if d <= limit { scored.append((d, candidate)) }
        }
        return scored.sorted { $0 < $1 }.prefix(3).map(\.1)
    }

    /// Levenshtein distance, stopping early once it exceeds `limit`.
    static func editDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            var rowMin = current[0]
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
