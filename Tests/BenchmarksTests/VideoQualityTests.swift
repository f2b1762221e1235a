// VideoQuality (the PSNR/SSIM of `bench cache`) against closed forms: a constant offset d gives
// PSNR = 10 log10(255² / d²); on flat frames the variances vanish, so SSIM is its luminance term
// (2 μx μy + C1) / (μx² + μy² + C1); identical videos give SSIM 1 and infinite PSNR. A structural
// change (a moved square) lowers SSIM well below the offset case.

import Benchmarks
import XCTest

final class VideoQualityTests: XCTestCase {
    let (frames, height, width) = (2, 16, 20)

    func flat(_ value: UInt8) -> [UInt8] { [UInt8](repeating: value, count: frames * height * width * 3) }

    func testPSNROfAConstantOffsetIsTheClosedForm() {
        for d in [1, 3, 40] {
            let psnr = VideoQuality.psnr(flat(100), flat(UInt8(100 + d)))
            XCTAssertEqual(psnr, 10 * log10(255.0 * 255.0 / Double(d * d)), accuracy: 1e-9, "offset \(d)")
        }
        XCTAssertEqual(VideoQuality.psnr(flat(7), flat(7)), .infinity)
    }

    func testSSIMOfFlatFramesIsTheLuminanceTerm() {
        let c1 = (0.01 * 255) * (0.01 * 255)
        for (x, y) in [(100.0, 100.0), (100.0, 120.0), (10.0, 200.0)] {
            let expected = (2 * x * y + c1) / (x * x + y * y + c1)
            let ssim = VideoQuality.ssim(flat(UInt8(x)), flat(UInt8(y)), frames: frames, height: height, width: width)
            XCTAssertEqual(ssim, expected, accuracy: 1e-9, "\(x) vs \(y)")
        }
    }

    func testAMovedShapeScoresBelowABrightnessShift() {
        func square(at x0: Int, level: UInt8 = 0) -> [UInt8] {
            var v = flat(60 &+ level)
            for f in 0..<frames {
                for y in 4..<10 {
                    for x in x0..<(x0 + 6) {
                        for c in 0..<3 { v[((f * height + y) * width + x) * 3 + c] = 220 &+ level }
                    }
                }
            }
            return v
        }
        let a = square(at: 3)
        let shifted = VideoQuality.ssim(a, square(at: 3, level: 4), frames: frames, height: height, width: width)
        let moved = VideoQuality.ssim(a, square(at: 9), frames: frames, height: height, width: width)
        XCTAssertEqual(VideoQuality.ssim(a, a, frames: frames, height: height, width: width), 1, accuracy: 1e-12)
        XCTAssertGreaterThan(shifted, 0.99)
        XCTAssertLessThan(moved, 0.8)
    }
}
