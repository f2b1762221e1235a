// The two uint8 conversions at their boundaries, and the (3, H, W) -> (H, W, 3) RGB layout.

import TensorCore
import VAE
import XCTest

final class FrameConversionTests: XCTestCase {
    func testRoundHalfUp() {
        let f = { (x: Float) in FrameConversion.level(x, rounding: .roundHalfUp) }
        XCTAssertEqual(f(-1), 0)  // 0 + 0.5 -> 0
        XCTAssertEqual(f(1), 255)  // 255.5 clamps to 255
        XCTAssertEqual(f(0), 128)  // 127.5 rounds half up
        XCTAssertEqual(f(5), 255)
        XCTAssertEqual(f(-5), 0)
        XCTAssertEqual(f(.infinity), 255)
        XCTAssertEqual(f(-.infinity), 0)
        XCTAssertEqual(f(0.999), 255)  // 254.87 + 0.5
        XCTAssertEqual(f(0.99), 254)  // 253.72 + 0.5
        XCTAssertEqual(f(-0.999), 0)  // 0.13 + 0.5
        XCTAssertEqual(f(-0.99), 1)  // 1.27 + 0.5
    }

    func testTruncation() {
        let f = { (x: Float) in FrameConversion.level(x, rounding: .truncate) }
        XCTAssertEqual(f(-1), 0)
        XCTAssertEqual(f(1), 255)
        XCTAssertEqual(f(0), 127)  // 127.5 truncates
        XCTAssertEqual(f(0.999), 254)  // 254.87 truncates
        XCTAssertEqual(f(-0.99), 1)  // 1.27 truncates
        XCTAssertEqual(f(1.5), 255)
        XCTAssertEqual(f(-1.5), 0)
        XCTAssertEqual(f(.infinity), 255)
    }

    /// Exactly representable half levels: x = 2k/255 − 1 gives (x/2 + 0.5)·255 = k up to rounding;
    /// the float32 operation order decides, so compare with the same formula written out.
    func testMatchesTheTorchFormulasOnAGrid() {
        for i in -1100...1100 {
            let x = Float(i) / 1000
            let round = Float(min(max(((x * 0.5 + 0.5) * 255) + 0.5, 0), 255)).rounded(.towardZero)
            let trunc = (min(max(x / 2 + 0.5, 0), 1) * 255).rounded(.towardZero)
            XCTAssertEqual(FrameConversion.level(x, rounding: .roundHalfUp), UInt8(round), "x = \(x)")
            XCTAssertEqual(FrameConversion.level(x, rounding: .truncate), UInt8(trunc), "x = \(x)")
        }
    }

    func testNaNIsBlack() {
        XCTAssertEqual(
            FrameConversion.uint8(Tensor(shape: [3, 1, 1], values: [.nan, .nan, .nan]), rounding: .roundHalfUp),
            [0, 0, 0])
    }

    func testLayoutIsInterleavedRGB() {
        // (3, 1, 2): R = [-1, 1], G = [0, 0], B = [1, -1]
        let frame = Tensor(shape: [3, 1, 2], values: [-1, 1, 0, 0, 1, -1])
        XCTAssertEqual(FrameConversion.uint8(frame, rounding: .roundHalfUp), [0, 128, 255, 255, 128, 0])
        XCTAssertEqual(FrameConversion.uint8(frame, rounding: .truncate), [0, 127, 255, 255, 127, 0])
        let video = Tensor(shape: [2, 3, 1, 2], values: frame.scalars + frame.scalars.map { -$0 })
        XCTAssertEqual(
            FrameConversion.uint8Video(video, rounding: .truncate),
            [0, 127, 255, 255, 127, 0, 255, 127, 0, 0, 127, 255])
    }
}
