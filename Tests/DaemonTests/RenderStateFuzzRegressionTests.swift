// Inputs found by fuzzing the render-state file the daemon resumes from (scripts/fuzz, target
// render-state; JobRunner decodes it). Each trapped before its fix; now each is RenderError.badState.

import Foundation
import Render
import TensorCore
import XCTest

final class RenderStateFuzzRegressionTests: XCTestCase {
    /// A state file with `header` (JSON) and `floats` zero float32 values after it.
    private func state(_ header: String, floats: Int) -> Data {
        var data = Data("SKIPDIT-STATE 1\n".utf8)
        withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(count: floats * 4))
        return data
    }

    private func header(latentShape: String, iteration: Int = 0, cacheCounter: Int = 0) -> String {
        #"{"planDigest":"d","videoIndex":0,"iteration":\#(iteration),"latentShape":\#(latentShape),"#
            + #""cacheCounter":\#(cacheCounter),"fullSteps":0,"cachedSteps":0,"denoiseSeconds":0,"finishedVideos":[]}"#
    }

    private func expectBadState(_ data: Data, _ needle: String, line: UInt = #line) {
        XCTAssertThrowsError(try RenderState.decode(data), line: line) { error in
            guard case RenderError.badState(let why) = error else { return XCTFail("\(error)", line: line) }
            XCTAssertTrue(why.contains(needle), "'\(why)' should mention '\(needle)'", line: line)
        }
    }

    /// Every dimension was below 2^24 but their product overflowed Int ("arithmetic overflow").
    func testShapeWhoseElementCountOverflowsIsAnError() {
        expectBadState(state(header(latentShape: "[16777215,16777215,16777215]"), floats: 4), "bad tensor shape")
        expectBadState(state(header(latentShape: "[4096,4096,4096,64]"), floats: 4), "bad tensor shape")
        expectBadState(state(header(latentShape: "[]"), floats: 1), "bad tensor shape")
    }

    /// Negative counters reached the sampler, whose resume point is a precondition.
    func testNegativeCountersAreErrors() {
        expectBadState(state(header(latentShape: "[2]", iteration: -1), floats: 2), "iteration is -1")
        expectBadState(state(header(latentShape: "[2]", cacheCounter: -5), floats: 2), "cacheCounter is -5")
    }

    /// A state the renderer writes still reads back, also from a Data slice not starting at index 0.
    func testEncodedStateDecodes() throws {
        let latents = Tensor(shape: [1, 2, 2], values: [1, 2, 3, 4])
        let s = RenderState(
            planDigest: "abc", videoIndex: 1, iteration: 3, latents: latents, cacheCounter: 2,
            cachedStream: Tensor(shape: [2], values: [5, 6]), finishedVideos: [])
        let data = try s.encoded()
        var shifted = Data([0xFF])
        shifted.append(data)
        for d in [data, shifted[(shifted.startIndex + 1)...]] {
            let back = try RenderState.decode(d)
            XCTAssertEqual(back.latents.scalars, [1, 2, 3, 4])
            XCTAssertEqual(back.cachedStream?.scalars, [5, 6])
            XCTAssertEqual(back.iteration, 3)
        }
    }
}
