// Bookkeeping after every sampler step of a render: the resumable state, the time spent, progress,
// the stop/cancel poll and the periodic checkpoint.

import Foundation
import Latte
import TensorCore

/// Measures the time between steps (across restarts it adds to RenderState.denoiseSeconds).
struct StepClock {
    private var last = Date()

    mutating func lap() -> Double {
        let now = Date()
        defer { last = now }
        return now.timeIntervalSince(last)
    }
}

extension RenderState {
    /// Records step `step` (0-based) of `total`; saves every `checkpointEvery` steps; throws
    /// RenderError.stopped (after saving) or .cancelled when the observer asks.
    /// `forwardSeconds`: the step's transformer forward (StepTiming). A checkpoint's write is not
    /// part of the next step's time.
    mutating func record(
        step: Int, of total: Int, mode: StepMode, forwardSeconds: Double, latents: Tensor, cache: SkipCacheState?,
        clock: inout StepClock, checkpointEvery: Int, observer: RenderObserver, progress: (Int, StepTiming) -> Void
    ) throws {
        if mode == .full {
            fullSteps += 1
            fullIterations.append(step)
        } else {
            cachedSteps += 1
        }
        iteration = step + 1
        self.latents = latents
        cacheCounter = cache?.counter ?? 0
        cachedStream = cache?.cachedStream
        cacheReference = cache?.reference
        cachedRun = cache?.cachedRun ?? 0
        runStartChange = cache?.runStartChange ?? 0
        let seconds = clock.lap()
        denoiseSeconds += seconds
        progress(
            step + 1,
            StepTiming(
                mode: mode, seconds: seconds, forwardSeconds: forwardSeconds, fullSteps: fullSteps,
                cachedSteps: cachedSteps))
        switch observer.control() {
        case .proceed:
            if step + 1 < total && (step + 1) % checkpointEvery == 0 {
                try observer.save(self)
                denoiseSeconds += clock.lap()
            }
        case .stop:
            try observer.save(self)
            throw RenderError.stopped
        case .cancel:
            throw RenderError.cancelled
        }
    }
}
