// Where a render's time went, phase by phase: RenderPipeline fills one when `profile` is set
// (`skipdit bench render`). The phases cover the render's wall time but for the bookkeeping
// between them (progress reports, the first latents of a video).

import Foundation
import Latte
import TensorCore

public final class RenderProfile: @unchecked Sendable {
    public enum Phase: String, CaseIterable, Sendable {
        /// Models from the cache or from files.
        case load
        /// Tokenizer and T5 (text-to-video).
        case textEncode = "text_encode"
        /// The transformer forwards of full and of cached Skip-Cache steps.
        case fullSteps = "full_steps"
        case cachedSteps = "cached_steps"
        /// The rest of every sampler step: CFG batching and guidance, the DDPM/DDIM update, noise.
        case sampler
        /// Render-state writes (every `checkpointEvery` steps and between videos).
        case checkpoint
        /// Latents to frames: the scaling and the VAE decoder.
        case decode
        /// Decoded frames to bytes (FrameConversion).
        case convert
        /// MP4 encoding, the poster and the file's SHA-256.
        case encode
    }

    public private(set) var seconds: [Phase: Double] = [:]
    public private(set) var fullSteps = 0
    public private(set) var cachedSteps = 0
    public private(set) var checkpoints = 0
    public private(set) var frames = 0

    public init() {}

    func add(_ phase: Phase, _ s: Double) { seconds[phase, default: 0] += s }

    /// A sampler step: its forward by mode, the remainder as the sampler's arithmetic.
    func addStep(_ timing: StepTiming) {
        if timing.mode == .full {
            fullSteps += 1
            add(.fullSteps, timing.forwardSeconds)
        } else {
            cachedSteps += 1
            add(.cachedSteps, timing.forwardSeconds)
        }
        add(.sampler, max(0, timing.seconds - timing.forwardSeconds))
    }

    func addFrames(_ n: Int) { frames += n }

    /// The observer the pipeline talks to while profiling: `inner`'s, with its saves timed.
    func observing(_ inner: RenderObserver) -> RenderObserver { TimedSaves(inner: inner, profile: self) }

    private final class TimedSaves: RenderObserver {
        let inner: RenderObserver
        let profile: RenderProfile

        init(inner: RenderObserver, profile: RenderProfile) {
            self.inner = inner
            self.profile = profile
        }

        func progress(_ p: RenderProgress) { inner.progress(p) }
        func control() -> RenderControl { inner.control() }
        func save(_ state: RenderState) throws {
            var s = 0.0
            defer {
                profile.add(.checkpoint, s)
                profile.checkpoints += 1
            }
            try Stopwatch.time(&s) { try inner.save(state) }
        }
    }
}
