// Strict loading of decoder parameters: each parameter is declared once with its current diffusers
// name and expected shape; the reader finds it under the file's naming convention, checks the shape
// and records it as used. `finish()` then reports every decoder tensor of the file that nothing
// used. Encoder tensors (and anything outside the decoder's prefixes) are ignored.

import TensorCore

/// Named fp32 tensors from a checkpoint file (any on-disk dtype, converted).
protocol VAETensorSource {
    /// The file, for error messages.
    var path: String { get }
    var names: [String] { get }
    func shape(of name: String) -> [Int]?
    func tensor(_ name: String) throws(VAEError) -> Tensor
}

/// Reads declared parameters from a source, by current diffusers name.
final class ParameterReader {
    let source: VAETensorSource
    let naming: VAEKeyNaming
    let prefix: String
    let levels: Int
    /// Name prefixes (after `prefix`) of the tensors the decoder owns; unused ones are errors.
    let ownedPrefixes: [String]
    private var used: Set<String> = []

    init(source: VAETensorSource, levels: Int, ownedPrefixes: [String]) {
        self.source = source
        (naming, prefix) = VAEKeyNaming.detect(source.names)
        self.levels = levels
        self.ownedPrefixes = ownedPrefixes
    }

    /// The tensor declared as `name` with shape `shape`; `alternatives` are other accepted shapes
    /// with the same element order (e.g. [C, C, 1, 1] for a [C, C] attention weight).
    func tensor(_ name: String, shape: [Int], alternatives: [[Int]] = []) throws(VAEError) -> Tensor {
        let fileName = prefix + naming.fileName(for: name, levels: levels)
        guard let actual = source.shape(of: fileName) else {
            throw .missingTensor(path: source.path, name: name, fileName: fileName)
        }
        guard actual == shape || alternatives.contains(actual) else {
            throw .tensorShape(path: source.path, name: fileName, expected: shape, actual: actual)
        }
        used.insert(fileName)
        let t = try source.tensor(fileName)
        return t.shape == shape ? t : t.reshaped(shape)
    }

    /// A Linear weight [C_out, C_in], also accepted as a 1x1 conv ([C_out, C_in, 1(, 1)]).
    func linearWeight(_ name: String, out: Int, in inputs: Int) throws(VAEError) -> Tensor {
        try tensor(name, shape: [out, inputs], alternatives: [[out, inputs, 1], [out, inputs, 1, 1]])
    }

    /// Throws if any owned tensor of the file was not read.
    func finish() throws(VAEError) {
        let unused = source.names.filter { name in
            guard name.hasPrefix(prefix), !used.contains(name) else { return false }
            let local = name.dropFirst(prefix.count)
            return ownedPrefixes.contains { local.hasPrefix($0) }
        }
        guard unused.isEmpty else { throw .unusedTensors(path: source.path, names: unused.sorted()) }
    }
}
