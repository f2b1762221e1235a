// c2v cases on the parts around the network: "timestep_features" (the float32 timestep sinusoid).

import Checkpoints
import Foundation
import Latte
import TensorCore

enum C2VFeatureCases {
    static func timestepFeatures(_ c: ManifestNode, fixtures: FixtureDirectory) throws(ConformanceError) -> [Check] {
        let t = try fixtures.array(c["inputs"]["t"]).ints()
        let expectedNode = try c["expected"]["features"]
        let expected = try fixtures.array(expectedNode)
        guard expected.shape.count == 2, expected.shape[0] == t.count else {
            throw .fixture(path: expectedNode.path, reason: "expected (\(t.count), dim), got \(expected.shape)")
        }
        // We reproduce the float32 arithmetic with torch's frequency table, so the tight bound applies.
        let atol = try c["tolerance"]["atol_if_using_table_and_float32_multiply"].double
        var checks: [Check] = []
        let tableNode = try c["inputs"]["freqs_f32"]
        let table = try fixtures.array(tableNode).floats()
        let ours = SinusoidalFeatures.frequencies(half: expected.shape[1] / 2)
        let tableDiff = zip(ours, table).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        checks.append(Check(label: "frequency table", maxError: tableDiff, tolerance: 0))
        let features = SinusoidalFeatures.timestep(t, dim: expected.shape[1])
        checks.append(Check(label: "features", maxError: maxAbsDifference(features, expected.floats()), tolerance: atol))
        return checks
    }
}
