// The text-to-video sampling loop as the official LattePipeline.__call__ runs it: for each DDIM
// timestep, the doubled latents with the [negative, prompt] caption states, guidance on all
// channels, eps = the first C channels (the learned-sigma half is dropped), the DDIM update; the
// caller's Skip-Cache state. Shared by the renderer and the conformance runner.
//
// Shapes: x (1, C, F, H, W); captions (2, K, Dc) with guidance, else (1, K, Dc).

import Diffusion
import Latte
import TensorCore

public struct TextToVideoSampler {
    public let model: LatteT2VTransformer
    public let scheduler: DDIMScheduler
    public let captions: Tensor
    /// CFG scale; 1 disables guidance (one pass with the prompt's states).
    public let guidance: Float

    public init(model: LatteT2VTransformer, scheduler: DDIMScheduler, captions: Tensor, guidance: Float) throws {
        guard captions.rank == 3, captions.shape[0] == (guidance != 1 ? 2 : 1) else {
            throw SamplingError.invalid("caption states \(captions.shape) do not match guidance \(guidance)")
        }
        self.model = model
        self.scheduler = scheduler
        self.captions = captions
        self.guidance = guidance
    }

    /// eps (1, C, F, H, W) at timestep t, updating the cache state.
    public func eps(_ x: Tensor, timestep t: Int, cache: inout SkipCacheState?) -> Tensor {
        var seconds = 0.0
        return eps(x, timestep: t, cache: &cache, forwardSeconds: &seconds)
    }

    /// `eps`, adding the transformer forward's seconds to `forwardSeconds`.
    func eps(_ x: Tensor, timestep t: Int, cache: inout SkipCacheState?, forwardSeconds: inout Double) -> Tensor {
        let channels = model.config.inChannels
        guard guidance != 1 else {
            let raw = Stopwatch.time(&forwardSeconds) {
                model.forward(x, timesteps: [t], caption: captions, cache: &cache)
            }
            return ClassifierFreeGuidance.leadingChannels(raw, channels)
        }
        let doubled = Tensor(stacking: [x, x])
        let raw = Stopwatch.time(&forwardSeconds) {
            model.forward(doubled, timesteps: [t, t], caption: captions, cache: &cache)
        }
        return ClassifierFreeGuidance.leadingChannels(ClassifierFreeGuidance.guideAll(raw, scale: guidance), channels)
    }

    /// What one step did: its index and timestep, its mode, the latents after it, the Skip-Cache
    /// state after it, and the seconds its transformer forward took (the rest of the step is the
    /// sampler's own arithmetic).
    public struct Iteration {
        public let index: Int
        public let timestep: Int
        public let mode: StepMode
        public let latents: Tensor
        public let cache: SkipCacheState?
        public let forwardSeconds: Double
    }

    /// Runs steps `start…` of the schedule from x with the Skip-Cache state `cache` (nil: off);
    /// `observe` sees every step and may throw to stop.
    public func run(
        from x: Tensor, startStep start: Int = 0, cache: SkipCacheState?, observe: (Iteration) throws -> Void
    ) throws -> Tensor {
        var x = x
        var state = cache
        for (i, t) in scheduler.timesteps.enumerated() where i >= start {
            var forward = 0.0
            x = scheduler.step(
                sample: x, eps: eps(x, timestep: t, cache: &state, forwardSeconds: &forward), timestep: t)
            try observe(
                Iteration(
                    index: i, timestep: t, mode: state?.lastMode ?? .full, latents: x, cache: state,
                    forwardSeconds: forward))
        }
        return x
    }
}
