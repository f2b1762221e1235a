// Comparing computed tensors with an "expected" manifest entry, whole or per step, against the
// tolerance the manifest gives (atol, or atol_per_step for stacked per-step arrays).

import Checkpoints
import TensorCore

extension FixtureDirectory {
    /// Checks `got` against expected entry `node` (a whole tensor, tolerance.atol).
    func check(_ label: String, _ got: Tensor, against node: ManifestNode, level: ToleranceLevel)
        throws(ConformanceError) -> Check
    {
        let expected = try array(node)
        guard expected.count == got.count else {
            throw .fixture(path: node.path, reason: "\(expected.shape) expected, computed \(got.shape)")
        }
        let tol = try tolerance(of: node, level: level)
        return Check(
            label: label, maxError: maxAbsDifference(got, expected.floats()), tolerance: try tol["atol"].double)
    }

    /// Checks a sequence of per-step tensors against a stacked expected array (steps first), with
    /// atol_per_step[k] (or one atol for all steps).
    func checkSteps(_ label: String, _ got: [Tensor], against node: ManifestNode, level: ToleranceLevel)
        throws(ConformanceError) -> [Check]
    {
        let expected = try array(node)
        guard let steps = expected.shape.first, steps == got.count else {
            throw .fixture(path: node.path, reason: "\(expected.shape) expected, computed \(got.count) steps")
        }
        let per = expected.count / max(steps, 1)
        let values = expected.floats()
        let tol = try tolerance(of: node, level: level)
        let perStep = try tol.optional("atol_per_step")?.doubles
        let atol = perStep == nil ? try tol["atol"].double : 0
        var checks: [Check] = []
        for (k, g) in got.enumerated() {
            guard g.count == per else {
                throw .fixture(path: node.path, reason: "step \(k): \(per) values expected, computed \(g.shape)")
            }
            let e = Array(values[k * per..<(k + 1) * per])
            checks.append(
                Check(label: "\(label)[\(k)]", maxError: maxAbsDifference(g, e), tolerance: perStep?[k] ?? atol))
        }
        return checks
    }
}

/// Concatenates tensors along the first axis.
func stack(_ parts: [Tensor]) -> Tensor {
    guard let first = parts.first else { return Tensor(zeros: [0]) }
    var out = Tensor(zeros: [parts.count] + first.shape)
    let p = out.mutablePointer()
    for (i, t) in parts.enumerated() {
        precondition(t.shape == first.shape, "stacking \(t.shape) with \(first.shape)")
        t.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { (p + i * first.count).update(from: base, count: first.count) }
        }
    }
    return out
}

/// Row block i of a stacked tensor (steps first): shape = shape.dropFirst().
func slice(_ t: Tensor, _ i: Int) -> Tensor {
    let inner = Array(t.shape.dropFirst())
    let n = inner.reduce(1, *)
    var out = Tensor(zeros: inner)
    out.mutablePointer().update(from: t.pointer + i * n, count: n)
    return withExtendedLifetime(t) { out }
}
