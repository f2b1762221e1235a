// A golden fixture directory: manifest.json plus the .npy and checkpoint files it names.

import Checkpoints
import Foundation
import TensorCore

/// Which manifest tolerance a run applies.
public enum ToleranceLevel: String, Sendable, CaseIterable {
    /// `tolerance` (the manifests' recommended bound).
    case recommended
    /// `tolerance_tight` where the manifest gives one, else `tolerance`.
    case tight
}

public struct FixtureDirectory: Sendable {
    public let url: URL
    public let manifest: ManifestNode

    public init(_ url: URL) throws(ConformanceError) {
        self.url = url
        let file = url.appendingPathComponent("manifest.json")
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw .fixture(
                path: file.path,
                reason: "cannot read (\(error.localizedDescription)); hint: pass a golden fixture directory")
        }
        do {
            manifest = ManifestNode(try JSONDecoder().decode(JSONValue.self, from: data), path: "manifest")
        } catch {
            throw .fixture(path: file.path, reason: "not valid JSON: \(error)")
        }
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Reads the array described by a node with "file" (and optionally "shape"), checking the shape.
    public func array(_ node: ManifestNode) throws(ConformanceError) -> NumPyArray {
        let name = try node["file"].string
        let a: NumPyArray
        do { a = try NumPy.read(file(name)) } catch { throw .fixture(path: file(name).path, reason: "\(error)") }
        if let shape = node.optional("shape") {
            let expected = try shape.ints
            guard expected == a.shape else {
                throw .fixture(path: name, reason: "shape \(a.shape) but the manifest says \(expected)")
            }
        }
        return a
    }

    /// `array(node).tensor()`.
    public func tensor(_ node: ManifestNode) throws(ConformanceError) -> Tensor { try array(node).tensor() }

    /// The tolerance node of an expected tensor at the requested level.
    public func tolerance(of expected: ManifestNode, level: ToleranceLevel) throws(ConformanceError) -> ManifestNode {
        if level == .tight, let t = expected.optional("tolerance_tight") { return t }
        return try expected["tolerance"]
    }
}

/// Max |a - b| over all elements (NaN counts as infinite).
public func maxAbsDifference(_ got: UnsafeBufferPointer<Float>, _ expected: [Float]) -> Double {
    precondition(got.count == expected.count, "comparing \(got.count) values with \(expected.count)")
    var m = 0.0
    for i in 0..<got.count {
        let d = abs(Double(got[i]) - Double(expected[i]))
        if d.isNaN { return .infinity }
        m = max(m, d)
    }
    return m
}

/// Max |a - b| between a tensor and an expected array.
public func maxAbsDifference(_ got: Tensor, _ expected: [Float]) -> Double {
    got.withUnsafeBufferPointer { maxAbsDifference($0, expected) }
}
