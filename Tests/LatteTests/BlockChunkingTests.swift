// The blocks run chunk by chunk of whole rows of one sample (BlockWorkspace.chunkTokens). Every
// sub-block is row-local, so any chunking gives the unchunked forward: one row per chunk, a few rows,
// and whole samples agree for both transformers at batch 2 (distinct labels; distinct captions and
// masks, so a chunk reading another sample's caption would show).

import Foundation
import Latte
import TensorCore
import TestSupport
import XCTest

final class BlockChunkingTests: XCTestCase {
    func assertSame(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let scale = a.scalars.map { abs($0) }.max() ?? 1
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .nan
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(what): max difference \(worst)", file: file, line: line)
    }

    func testClassToVideoChunkings() throws {
        let engine = try OpenBLASEngine()
        let config = TinyModels.classToVideo(depth: 4, classes: 10)
        let model = try LatteTransformer.random(config: config, seed: 5, engine: engine)
        let x = RandomNormal.tensor(shape: [2, 4, 4, 8, 8], seed: 6, stream: 0)
        func run(_ chunk: Int) -> Tensor {
            var cache: SkipCacheState? = nil
            return model.forward(x, timesteps: [300, 300], labels: [3, 10], cache: &cache, chunkTokens: chunk)
        }
        // 16 tokens a frame: spatial rows of 16, temporal rows of 4 frames.
        let whole = run(1 << 20)
        assertSame(run(1), whole, "one row per chunk")
        assertSame(run(40), whole, "two spatial rows, ten temporal rows per chunk")
        var cache: SkipCacheState? = nil
        let otherLabels = model.forward(x, timesteps: [300, 300], labels: [4, 10], cache: &cache, chunkTokens: 1)
        XCTAssertNotEqual(otherLabels.scalars, whole.scalars, "the comparison can fail")
    }

    func testTextToVideoChunkingsKeepEachSamplesCaption() throws {
        let engine = try OpenBLASEngine()
        let config = try TinyModels.textToVideo(layers: 4)
        let model = try LatteT2VTransformer.random(config: config, seed: 7, engine: engine)
        let x = RandomNormal.tensor(shape: [2, 4, 4, 8, 8], seed: 8, stream: 0)
        let caption = RandomNormal.tensor(shape: [2, 9, 32], seed: 9, stream: 0)
        let mask = [[1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 0, 0]]
        func run(_ chunk: Int, mask: [[Int]]) -> Tensor {
            var cache: SkipCacheState? = nil
            return model.forward(
                x, timesteps: [300, 300], caption: caption, mask: mask, cache: &cache, chunkTokens: chunk)
        }
        let whole = run(1 << 20, mask: mask)
        assertSame(run(1, mask: mask), whole, "one row per chunk")
        assertSame(run(40, mask: mask), whole, "two spatial rows, ten temporal rows per chunk")
        let otherMask = run(1, mask: [[1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0]])
        XCTAssertNotEqual(otherMask.scalars, whole.scalars, "the comparison can fail")
        // Each sample of the batch is the batch-1 forward of its own latents, caption and mask.
        let per = whole.count / 2
        for sample in 0..<2 {
            func slice(_ t: Tensor) -> Tensor {
                let n = t.count / 2
                return Tensor(
                    shape: [1] + t.shape.dropFirst(), values: Array(t.scalars[(sample * n)..<((sample + 1) * n)]))
            }
            var cache: SkipCacheState? = nil
            let alone = model.forward(
                slice(x), timesteps: [300], caption: slice(caption), mask: [mask[sample]], cache: &cache, chunkTokens: 1
            )
            let part = Tensor(shape: alone.shape, values: Array(whole.scalars[(sample * per)..<((sample + 1) * per)]))
            assertSame(part, alone, "sample \(sample) of the batch alone")
        }
    }
}
