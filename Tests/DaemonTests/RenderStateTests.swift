// The render state file with the adaptive Skip-Cache fields: they round-trip bit for bit, a state
// written before they existed still reads (as a fixed-policy state), and a negative staleness unit is
// a damaged file.

import Foundation
import Render
import TensorCore
import XCTest

final class RenderStateTests: XCTestCase {
    func testTheAdaptiveFieldsRoundTrip() throws {
        let latents = Tensor(shape: [1, 2, 3], values: [1, 2, 3, 4, 5, 6])
        let cached = Tensor(shape: [2, 2], values: [0.5, -1, 2, 3])
        let reference = Tensor(shape: [2, 2], values: [-0.25, 7, 8, 9])
        let state = RenderState(
            planDigest: "p", videoIndex: 1, iteration: 7, latents: latents, cacheCounter: 7, cachedStream: cached,
            cacheReference: reference, cachedRun: 2, runStartChange: 0.012345678901234567, fullSteps: 5,
            cachedSteps: 2, fullIterations: [0, 1, 2, 4, 6], denoiseSeconds: 1.5, finishedVideos: [])
        let back = try RenderState.decode(try state.encoded())
        XCTAssertEqual(back.latents.scalars, latents.scalars)
        XCTAssertEqual(back.cachedStream?.scalars, cached.scalars)
        XCTAssertEqual(back.cacheReference?.scalars, reference.scalars)
        XCTAssertEqual(back.cacheReference?.shape, [2, 2])
        XCTAssertEqual(back.cachedRun, 2)
        XCTAssertEqual(back.runStartChange.bitPattern, state.runStartChange.bitPattern)
        XCTAssertEqual(back.fullIterations, [0, 1, 2, 4, 6])
    }

    /// The header of a state from before the adaptive policy, with `floats` zero values after it.
    private func oldState(_ extra: String = "") -> Data {
        let header =
            #"{"planDigest":"d","videoIndex":0,"iteration":3,"latentShape":[2],"cacheCounter":3,"cachedShape":[1],"#
            + #""fullSteps":2,"cachedSteps":1,"denoiseSeconds":0,"finishedVideos":[]\#(extra)}"#
        var data = Data("SKIPDIT-STATE 1\n".utf8)
        withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(count: 3 * 4))
        return data
    }

    func testAStateFromBeforeTheAdaptivePolicyStillReads() throws {
        let state = try RenderState.decode(oldState())
        XCTAssertEqual(state.iteration, 3)
        XCTAssertEqual(state.cacheCounter, 3)
        XCTAssertNil(state.cacheReference)
        XCTAssertEqual(state.cachedRun, 0)
        XCTAssertEqual(state.runStartChange, 0)
        XCTAssertEqual(state.fullIterations, [])
    }

    func testANegativeStalenessUnitOrIterationIsADamagedFile() {
        for (extra, needle) in [
            (#","runStartChange":-1"#, "runStartChange"), (#","cachedRun":-2"#, "cachedRun"),
            (#","fullIterations":[0,-1]"#, "fullIterations"),
        ] {
            XCTAssertThrowsError(try RenderState.decode(oldState(extra))) { error in
                guard case RenderError.badState(let why) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(why.contains(needle), why)
            }
        }
    }
}
