// Permute, concat/split, the Latte rearranges and bf16 conversion vs index-by-index references.

import TensorCore
import XCTest

final class LayoutTests: XCTestCase {
    func testPermute() {
        var rng = SeededRandom(seed: 40)
        let x = rng.tensor([2, 3, 5, 7])
        let xv = x.scalars
        for perm in [[0, 1, 2, 3], [3, 2, 1, 0], [0, 2, 1, 3], [1, 3, 0, 2], [2, 0, 3, 1]] {
            let y = Layout.permute(x, perm)
            XCTAssertEqual(y.shape, perm.map { x.shape[$0] })
            let yv = y.scalars
            var ok = true
            for a in 0..<2 {
                for b in 0..<3 {
                    for c in 0..<5 {
                        for d in 0..<7 {
                            let src = [a, b, c, d]
                            let dst = perm.map { src[$0] }
                            let yi = ((dst[0] * y.shape[1] + dst[1]) * y.shape[2] + dst[2]) * y.shape[3] + dst[3]
                            if yv[yi] != xv[((a * 3 + b) * 5 + c) * 7 + d] { ok = false }
                        }
                    }
                }
            }
            XCTAssertTrue(ok, "permute \(perm)")
        }
        XCTAssertEqual(
            Layout.permute(Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]), [1, 0]).scalars, [1, 3, 5, 2, 4, 6])
    }

    func testConcatSplit() {
        var rng = SeededRandom(seed: 41)
        let a = rng.tensor([2, 3, 4]), b = rng.tensor([2, 5, 4]), c = rng.tensor([2, 1, 4])
        let cat = Layout.concat([a, b, c], axis: 1)
        XCTAssertEqual(cat.shape, [2, 9, 4])
        let av = a.scalars, bv = b.scalars, cv = c.scalars, catv = cat.scalars
        for i in 0..<2 {
            for j in 0..<9 {
                for k in 0..<4 {
                    let want = j < 3 ? av[(i * 3 + j) * 4 + k] : j < 8 ? bv[(i * 5 + j - 3) * 4 + k] : cv[i * 4 + k]
                    XCTAssertEqual(catv[(i * 9 + j) * 4 + k], want)
                }
            }
        }
        let parts = Layout.split(cat, sizes: [3, 5, 1], axis: 1)
        XCTAssertEqual(parts.map(\.shape), [[2, 3, 4], [2, 5, 4], [2, 1, 4]])
        XCTAssertEqual(parts[0].scalars, av)
        XCTAssertEqual(parts[1].scalars, bv)
        XCTAssertEqual(parts[2].scalars, cv)
        let last = Layout.concat([a, a], axis: -1)
        XCTAssertEqual(last.shape, [2, 3, 8])
        XCTAssertEqual(Array(last.scalars[0..<8]), Array(av[0..<4]) + Array(av[0..<4]))
        var y = Tensor(zeros: [6, 8])
        Layout.concatLastDim(a.pointer, width: 4, a.pointer, width: 4, rows: 6, into: y.mutablePointer())
        XCTAssertEqual(y.scalars, last.scalars)
    }

    func testLatteRearranges() {
        var rng = SeededRandom(seed: 42)
        let (b, f, t, d) = (2, 3, 5, 7)
        let x = rng.tensor([b * f, t, d])
        let y = Layout.framesToTokens(x, batch: b)
        XCTAssertEqual(y.shape, [b * t, f, d])
        // Same as numpy: x.reshape(B, F, T, D).transpose(0, 2, 1, 3).
        let ref = Layout.permute(x.reshaped([b, f, t, d]), [0, 2, 1, 3])
        XCTAssertEqual(y.scalars, ref.scalars)
        let back = Layout.tokensToFrames(y, batch: b)
        XCTAssertEqual(back.shape, x.shape)
        XCTAssertEqual(back.scalars, x.scalars)
    }

    func testBFloat16() {
        var values: [Float] = [
            0, -0.0, 1, -1, 1.5, 3.140625, 65504, Float(bitPattern: 0x0001_2345), .infinity, -.infinity,
            .greatestFiniteMagnitude,
        ]
        // Ties: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> even (1); 1 + 3·2^-8 -> 1 + 2^-6.
        values += [1 + 1.0 / 256, 1 + 3.0 / 256, 1 + 1.0 / 256 + 1.0 / 65536]
        var rng = SeededRandom(seed: 43)
        values += (0..<37).map { _ in rng.normal() * 100 }
        let x = Tensor(shape: [values.count], values: values)
        let bits = BFloat16.encode(x)
        for (i, v) in values.enumerated() {
            // Reference: round to nearest even with integer arithmetic on the bit pattern.
            let u = v.bitPattern
            let lower = u >> 16, rest = u & 0xFFFF
            var want = lower
            if rest > 0x8000 || (rest == 0x8000 && lower & 1 == 1) { want += 1 }
            XCTAssertEqual(bits[i], UInt16(truncatingIfNeeded: want), "value \(v)")
        }
        XCTAssertEqual(bits[11], 0x3F80)
        XCTAssertEqual(bits[12], 0x3F82)
        XCTAssertEqual(bits[13], 0x3F81)
        let back = BFloat16.decode(bits, shape: [values.count])
        for (i, v) in back.scalars.enumerated() { XCTAssertEqual(v.bitPattern, UInt32(bits[i]) << 16) }
        let nan = BFloat16.encode(Tensor(shape: [9], values: [Float](repeating: .nan, count: 9)))
        XCTAssertTrue(BFloat16.decode(nan, shape: [9]).scalars.allSatisfy(\.isNaN))
    }
}
