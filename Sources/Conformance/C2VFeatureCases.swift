// c2v cases on the parts around the network: "timestep_features" (the float32 timestep sinusoid).

import Checkpoints
import Foundation
import Latte
import TensorCore
import VAE

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
        checks.append(
            Check(label: "features", maxError: maxAbsDifference(features, expected.floats()), tolerance: atol))
        return checks
    }
}

extension C2VFeatureCases {
    /// "postprocess": decoded frames (F, 3, H, W) -> uint8 (F, H, W, 3), exactly (round half up).
    static func toUInt8(_ c: ManifestNode, fixtures: FixtureDirectory) throws(ConformanceError) -> [Check] {
        let decoded = try fixtures.tensor(c["inputs"]["decoded"])
        let expectedNode = try c["expected"]["frames"]
        let expected = try fixtures.array(expectedNode)
        guard let wanted = expected.uint8s(), decoded.rank == 4, decoded.shape[1] == 3 else {
            throw .fixture(path: expectedNode.path, reason: "expected uint8 frames for (F, 3, H, W) input")
        }
        let got = FrameConversion.uint8Video(decoded, rounding: .roundHalfUp)
        guard got.count == wanted.count else { throw .fixture(path: expectedNode.path, reason: "size mismatch") }
        let worst = zip(got, wanted).map { abs(Int($0) - Int($1)) }.max() ?? 0
        return [Check(label: "frames", maxError: Double(worst), tolerance: try c["tolerance"]["atol"].double)]
    }
}
