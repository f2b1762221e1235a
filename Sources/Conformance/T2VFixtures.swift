// Helpers for the t2v manifest format: model files named by "model_files" entries ("path (comment)")
// and the suggested relative tolerances, max|Δ| / max|expected|, keyed by prose naming the case
// kinds ("t5_encoder, transformer_forward (output and debug tensors), cfg_forward.raw_output_batch2").

import Foundation
import TensorCore

extension FixtureDirectory {
    /// The first path of a manifest "model_files" entry.
    func modelPath(_ key: String) throws(ConformanceError) -> URL {
        let text = try manifest["model_files"][key].string
        guard let path = text.split(separator: " ").first else { throw .manifest("model_files.\(key) is empty") }
        return file(String(path))
    }

    /// The folder of a "model_files" entry (the entry itself, or the folder of the file it names).
    func modelFolder(_ key: String) throws(ConformanceError) -> URL {
        let url = try modelPath(key)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return url
        }
        return url.deletingLastPathComponent()
    }

    /// The suggested relative tolerance for `tensor` of a case of `kind`: a key part naming
    /// "kind.tensor" wins over one naming the kind ("kind" or "kind …").
    func relativeTolerance(kind: String, tensor: String? = nil) throws(ConformanceError) -> Double {
        let suggested = try manifest["suggested_tolerances"]
        var general: Double?
        for key in suggested.keys {
            guard case .number(let value) = try suggested[key].value else { continue }
            for part in key.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if let tensor, part.hasPrefix("\(kind).\(tensor)") { return value }
                if general == nil, part == kind || part.hasPrefix("\(kind) ") { general = value }
            }
        }
        guard let general else { throw .manifest("suggested_tolerances has no bound for \(kind) \(tensor ?? "")") }
        return general
    }

    /// max|got − expected| / max|expected| against `tolerance`.
    func relativeCheck(_ label: String, _ got: Tensor, _ expected: [Float], tolerance: Double) -> Check {
        let scale = expected.reduce(0) { max($0, Double(abs($1))) }
        return Check(
            label: label, maxError: maxAbsDifference(got, expected) / max(scale, .leastNormalMagnitude),
            tolerance: tolerance)
    }

    /// `relativeCheck` against the array an expected entry names (sizes must agree).
    func relativeCheck(_ label: String, _ got: Tensor, _ node: ManifestNode, tolerance: Double) throws(ConformanceError)
        -> Check
    {
        let expected = try array(node)
        guard expected.count == got.count else {
            throw .fixture(path: node.path, reason: "\(expected.shape) expected, computed \(got.shape)")
        }
        return relativeCheck(label, got, expected.floats(), tolerance: tolerance)
    }
}
