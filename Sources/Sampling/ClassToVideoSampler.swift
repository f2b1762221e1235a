// The class-to-video sampling loop as sample.py runs it: DDPM or DDIM over the respaced schedule,
// the model called with the original timestep, classifier-free guidance as forward_with_cfg does
// it (the conditional and null labels as one doubled batch; guided eps, conditional variance), and
// the caller's Skip-Cache state. Shared by the renderer and the conformance runner.
//
// Shapes: x (B, F, C, H, W); model output (B, F, 2C, H, W).

import Diffusion
import Latte
import TensorCore

public struct ClassToVideoSampler {
    public let model: LatteTransformer
    public let loop: DenoiseLoop
    /// CFG scale; 1 disables guidance (a plain forward, with the labels for class models).
    public let guidance: Float
    /// Class labels per sample (class-conditional models), nil for unconditional ones.
    public let labels: [Int]?

    public init(model: LatteTransformer, method: SamplerMethod, steps: Int, guidance: Float, labels: [Int]?) throws {
        guard labels == nil || model.config.isClassConditional else {
            throw SamplingError.invalid("the model is unconditional; it takes no class")
        }
        guard labels != nil || !model.config.isClassConditional else {
            throw SamplingError.invalid("the model is class-conditional; give a class")
        }
        guard guidance == 1 || labels != nil else {
            throw SamplingError.invalid("guidance \(guidance) needs a class-conditional model; use guidance 1.0")
        }
        self.model = model
        self.loop = DenoiseLoop(sampler: Sampler(method: method, diffusion: try RespacedDiffusion(steps: steps)))
        self.guidance = guidance
        self.labels = labels
    }

    /// The model output the sampler sees at `step` (guidance applied), updating the cache state.
    public func modelOutput(_ x: Tensor, step: DenoiseStep, cache: inout SkipCacheState?) -> Tensor {
        var seconds = 0.0
        return modelOutput(x, step: step, cache: &cache, forwardSeconds: &seconds)
    }

    /// `modelOutput`, adding the transformer forward's seconds to `forwardSeconds`.
    func modelOutput(_ x: Tensor, step: DenoiseStep, cache: inout SkipCacheState?, forwardSeconds: inout Double)
        -> Tensor
    {
        let b = x.shape[0]
        guard guidance != 1, let labels, let null = model.config.nullClass else {
            return Stopwatch.time(&forwardSeconds) {
                model.forward(x, timesteps: Array(repeating: step.timestep, count: b), labels: labels, cache: &cache)
            }
        }
        let doubled = ClassifierFreeGuidance.doubled(x)
        let out = Stopwatch.time(&forwardSeconds) {
            model.forward(
                doubled, timesteps: Array(repeating: step.timestep, count: 2 * b),
                labels: labels + Array(repeating: null, count: b), cache: &cache)
        }
        return ClassifierFreeGuidance.conditionalHalf(
            ClassifierFreeGuidance.combine(out, scale: guidance, guidedChannels: model.config.inChannels))
    }

    /// What one iteration did: its mode, the model output the sampler saw, the update, the
    /// Skip-Cache state after it, and the seconds its transformer forward took (the rest of the
    /// iteration is the sampler's own arithmetic).
    public struct Iteration {
        public let step: DenoiseStep
        public let mode: StepMode
        public let modelOutput: Tensor
        public let result: SamplerStepResult
        public let cache: SkipCacheState?
        public let forwardSeconds: Double
    }

    /// Runs iterations `start…` from x with the Skip-Cache state `cache` (nil: off). `noise` gives
    /// a DDPM step's noise (unused by DDIM); `observe` sees every iteration and may throw to stop.
    public func run(
        from x: Tensor, startIteration start: Int = 0, cache: SkipCacheState?, noise: (DenoiseStep) throws -> Tensor,
        observe: (Iteration) throws -> Void
    ) throws -> Tensor {
        var state = cache
        var mode = StepMode.full
        var forward = 0.0
        return try loop.run(
            from: x, startIteration: start,
            model: { x, step in
                forward = 0
                let out = modelOutput(x, step: step, cache: &state, forwardSeconds: &forward)
                mode = state?.lastMode ?? .full
                return out
            },
            noise: noise,
            observe: { step, out, result in
                try observe(
                    Iteration(
                        step: step, mode: mode, modelOutput: out, result: result, cache: state,
                        forwardSeconds: forward))
            })
    }
}

/// Errors in sampling parameters.
public enum SamplingError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let m): return m
        }
    }
}
