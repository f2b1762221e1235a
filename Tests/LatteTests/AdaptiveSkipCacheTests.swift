// The adaptive Skip-Cache policy: its timestep weights, its decisions on a synthetic drift (steady,
// then faster), its cap and reset, and, on the c2v fixture model, that a forward it decides runs
// exactly the full forward or exactly the reference's cached forward (same bits as the fixed policy
// given the same cached stream).

import Diffusion
import Foundation
import Latte
import TensorCore
import TestSupport
import XCTest

final class AdaptiveSkipCacheTests: XCTestCase {
    private let alphas = NoiseSchedule.linear().alphasCumprod

    private func schedule(threshold: Double, maxCached: Int, start: Int = 900) -> SkipCacheSchedule {
        SkipCacheSchedule(
            interval: 1, start: start, stop: 50, stopRule: .below,
            adaptive: AdaptiveCachePolicy(threshold: threshold, maxCached: maxCached, alphasCumprod: alphas))
    }

    func testWeightsFallWithTheNoiseLevelAndAreOneAtTimestep500() {
        let w = AdaptiveCachePolicy(threshold: 1, maxCached: 1, alphasCumprod: alphas)
        XCTAssertEqual(w.weight(at: 500), 1, accuracy: 1e-12)
        XCTAssertGreaterThan(w.weight(at: 880), 4)
        XCTAssertLessThan(w.weight(at: 100), 0.4)
        for t in 1..<1000 { XCTAssertGreaterThan(w.weight(at: t), w.weight(at: t - 1), "t \(t)") }
    }

    /// The state after a full forward stored `h` as both the reference and the cached stream.
    private func stored(_ state: SkipCacheState, _ h: Tensor) -> SkipCacheState {
        SkipCacheState(
            schedule: state.schedule, counter: state.counter, cachedStream: h.copy(), reference: h.copy(),
            cachedRun: state.cachedRun, runStartChange: state.runStartChange)
    }

    /// Runs the policy's bookkeeping as a forward does, on outer outputs `outer(k)` at timestep t(k).
    private func decisions(
        _ schedule: SkipCacheSchedule, steps: Int, t: (Int) -> Int, outer: (Int) -> Float
    ) -> String {
        var state = SkipCacheState(schedule: schedule)
        var out = ""
        for k in 0..<steps {
            let h = Tensor(repeating: outer(k), shape: [2, 3])
            var mode: StepMode
            switch state.plan(at: t(k)) {
            case .full: mode = .full
            case .cached: mode = .cached
            case .decideAfterOuterPairs: mode = state.decide(outerOutput: h, timestep: t(k))
            }
            if mode == .full { state = stored(state, h) }
            state.advance(after: t(k), ran: mode)
            out += mode == .full ? "F" : "c"
        }
        return out
    }

    func testDecisionsFollowTheEstimatedErrorOfAStaleStream() {
        // A steady drift at t = 500 (w = 1): staleness s costs s², so threshold 5 caches s = 1, 2.
        let steady = decisions(schedule(threshold: 5, maxCached: 8), steps: 10, t: { _ in 500 }) { 1 + 0.01 * Float($0) }
        XCTAssertEqual(steady, "FccFccFccF")
        XCTAssertEqual(
            decisions(schedule(threshold: 10, maxCached: 8), steps: 9, t: { _ in 500 }) { 1 + 0.01 * Float($0) },
            "FcccFcccF")
        // The cap.
        XCTAssertEqual(
            decisions(schedule(threshold: 100, maxCached: 2), steps: 7, t: { _ in 500 }) { 1 + 0.01 * Float($0) },
            "FccFccF")
        // The video starts changing five times faster at step 6, inside a run: the stale stream is
        // refreshed at once, and the next run measures its staleness in the new, faster steps.
        let faster = decisions(schedule(threshold: 10, maxCached: 8), steps: 9, t: { _ in 500 }) { k in
            k <= 5 ? 1 + 0.01 * Float(k) : 1.05 + 0.05 * Float(k - 5)
        }
        XCTAssertEqual(faster, "FcccFcFcc")
        // At high noise (t = 880, w ≈ 5) the same drift is cached less.
        XCTAssertEqual(
            decisions(schedule(threshold: 10, maxCached: 8, start: 1000), steps: 7, t: { _ in 880 }) {
                1 + 0.01 * Float($0)
            }, "FcFcFcF")
        // The window: full while t >= start; the call at t = 40 may be cached, and after that reset
        // (t < stop) the next call is full.
        XCTAssertEqual(
            decisions(schedule(threshold: 100, maxCached: 8), steps: 6, t: { [950, 920, 800, 700, 40, 30][$0] }) {
                1 + 0.01 * Float($0)
            }, "FFcccF")
    }

    func testAResetClearsTheAdaptiveState() {
        var state = stored(SkipCacheState(schedule: schedule(threshold: 100, maxCached: 8)), Tensor(repeating: 1, shape: [1]))
        state.advance(after: 500, ran: .full)
        XCTAssertEqual(state.decide(outerOutput: Tensor(repeating: 1.5, shape: [1]), timestep: 480), .cached)
        state.advance(after: 480, ran: .cached)
        XCTAssertEqual(state.cachedRun, 1)
        XCTAssertEqual(state.runStartChange, 0.5, accuracy: 1e-12)
        state.advance(after: 40, ran: .cached)
        XCTAssertNil(state.reference)
        XCTAssertNil(state.cachedStream)
        XCTAssertEqual(state.cachedRun, 0)
        XCTAssertEqual(state.runStartChange, 0)
        XCTAssertEqual(state.plan(at: 20), .full)
    }

    /// On the fixture model with CFG: the adaptive forward's full and cached calls equal the fixed
    /// policy's full and cached calls bit for bit, and the decision covers both halves of the batch.
    func testADecidedForwardIsExactlyTheFullOrTheReferenceCachedForward() throws {
        let engine = try makeGEMMEngine(ComputeOptions(backend: .openblas, precision: .fp32, threads: 1))
        let model = try LatteTransformer.load(
            checkpoint: Fixtures.suite("c2v").appendingPathComponent("ckpt_cond.pt"), numHeads: 2, engine: engine)
        let c = model.config
        let shape = [2, c.numFrames, c.inChannels, c.latentSize, c.latentSize]
        func input(_ k: Int) -> Tensor {
            Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float(sin(Double($0) * 0.37 + Double(k) * 0.05)) })
        }
        let labels = [1, c.nullClass ?? 5]
        let timesteps = [899, 879, 859, 839]
        for threshold in [1e-9, 1e9] {
            var adaptive: SkipCacheState? = SkipCacheState(schedule: schedule(threshold: threshold, maxCached: 8))
            var fixed: SkipCacheState? = SkipCacheState(
                schedule: SkipCacheSchedule(interval: 1000, start: 900, stop: 50, stopRule: .below))
            for (k, t) in timesteps.enumerated() {
                let a = model.forward(input(k), timesteps: [t, t], labels: labels, cache: &adaptive)
                let mode = try XCTUnwrap(adaptive?.lastMode)
                XCTAssertEqual(mode, k == 0 || threshold < 1 ? .full : .cached, "threshold \(threshold), call \(k)")
                var reference: SkipCacheState? = fixed
                if mode == .full, let s = fixed?.schedule { reference = SkipCacheState(schedule: s) }
                let f = model.forward(input(k), timesteps: [t, t], labels: labels, cache: &reference)
                XCTAssertEqual(reference?.lastMode, mode)
                XCTAssertEqual(a.scalars, f.scalars, "threshold \(threshold), call \(k): \(mode)")
                if mode == .full { fixed = reference }
            }
        }
    }
}
