// Timestep sinusoid and Skip-Cache schedule checks that need no network.

import Checkpoints
import Latte
import TestSupport
import XCTest

final class SinusoidTests: XCTestCase {
    func testFrequencyTableMatchesTorch() throws {
        let torch = try NumPy.read(Fixtures.suite("c2v").appendingPathComponent("timestep_freqs_f32.npy")).floats()
        let ours = SinusoidalFeatures.frequencies(half: torch.count)
        for (k, (a, b)) in zip(ours, torch).enumerated() where a != b {
            XCTFail("frequency \(k): ours \(a) (\(a.bitPattern)) torch \(b) (\(b.bitPattern))")
        }
    }
}
