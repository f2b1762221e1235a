// Test helpers: a seeded random generator, random tensors, and closeness checks against Double
// references.

import TensorCore
import XCTest

/// SplitMix64: small, seedable, identical on every platform.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        let u = Double(next() >> 11) / Double(1 << 53)
        return Float(Double(lo) + (Double(hi) - Double(lo)) * u)
    }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    mutating func tensor(_ shape: [Int], scale: Float = 1, offset: Float = 0) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, values: (0..<n).map { _ in normal() * scale + offset })
    }
}

/// Asserts |got − want| ≤ tol · max(|want|, rms(want)) elementwise (float32 vs a Double reference).
func assertClose(
    _ got: [Float], _ want: [Double], tol: Double = 1e-5, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(got.count, want.count, "count mismatch \(message)", file: file, line: line)
    guard got.count == want.count, !want.isEmpty else { return }
    let rms = (want.reduce(0) { $0 + $1 * $1 } / Double(want.count)).squareRoot()
    var worst = 0.0, worstIndex = 0
    for i in 0..<want.count {
        let err = abs(Double(got[i]) - want[i]) / max(abs(want[i]), rms, 1e-30)
        if !(err <= worst) { worst = err; worstIndex = i }  // NaN counts as worst
    }
    XCTAssert(
        worst <= tol,
        "\(message): relative error \(worst) at \(worstIndex) (got \(got[worstIndex]), want \(want[worstIndex]))",
        file: file, line: line)
}

extension Tensor {
    var doubles: [Double] { scalars.map(Double.init) }
}
