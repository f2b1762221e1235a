// The class-to-video denoise loop of one video, as sample.py runs it: z ~ N(0, I) of shape
// (1, F, C, H, W) from the seed, then DDPM or DDIM over the respaced schedule, with classifier-free
// guidance (the conditional and null labels as one batch of 2) and the render's own Skip-Cache
// state. It checkpoints every few steps and polls for stop/cancel at every step boundary.

import Diffusion
import Foundation
import Latte
import TensorCore

struct ClassToVideoSampling {
    let model: LatteTransformer
    let method: SamplerMethod
    let steps: Int
    /// CFG scale; 1 disables guidance.
    let guidance: Float
    /// Class id for class-conditional models.
    let classIndex: Int?
    let cache: SkipCacheSchedule?
    /// Save the state every this many steps (and whenever stopping).
    let checkpointEvery: Int

    /// (1, F, C, H, W)
    var latentShape: [Int] {
        let c = model.config
        return [1, c.numFrames, c.inChannels, c.latentSize, c.latentSize]
    }

    /// The initial latents of a seed.
    func initialLatents(seed: Int) -> Tensor {
        GaussianNoise(seed: UInt64(bitPattern: Int64(seed))).tensor(
            shape: latentShape, stream: GaussianNoise.Stream.initialLatents)
    }

    /// Runs (or resumes) the denoise loop. `state` carries the video index, iteration, latents and
    /// cache state; it is updated in place and handed to `save` at checkpoints.
    func denoise(seed: Int, state: inout RenderState, observer: RenderObserver, progress: (Int) -> Void) throws
        -> Tensor
    {
        let diffusion = try RespacedDiffusion(steps: steps)
        let loop = DenoiseLoop(sampler: Sampler(method: method, diffusion: diffusion))
        let noise = GaussianNoise(seed: UInt64(bitPattern: Int64(seed)))
        let useCFG = guidance != 1
        let c = model.config
        var labels: [Int]?
        if let classIndex {
            guard let null = c.nullClass else {
                throw RenderError.unsupported("the model is unconditional; it takes no class")
            }
            labels = useCFG ? [classIndex, null] : [classIndex]
        } else if useCFG {
            throw RenderError.unsupported("guidance \(guidance) needs a class-conditional model; use guidance 1.0")
        }
        var cacheState: SkipCacheState? = cache.map {
            SkipCacheState(schedule: $0, counter: state.cacheCounter, cachedStream: state.cachedStream)
        }
        var started = Date()
        var stopRequest: RenderControl = .proceed
        do {
            _ = try loop.run(
                from: state.latents, startIteration: state.iteration,
                model: { x, step in
                    let mode = cacheState?.mode(at: step.timestep) ?? .full
                    if mode == .full { state.fullSteps += 1 } else { state.cachedSteps += 1 }
                    if useCFG {
                        let doubled = ClassifierFreeGuidance.doubled(x)
                        let out = model.forward(
                            doubled, timesteps: [step.timestep, step.timestep], labels: labels, cache: &cacheState)
                        return ClassifierFreeGuidance.conditionalHalf(
                            ClassifierFreeGuidance.combine(out, scale: guidance, guidedChannels: c.inChannels))
                    }
                    return model.forward(x, timesteps: [step.timestep], labels: labels, cache: &cacheState)
                },
                noise: { step in noise.tensor(shape: latentShape, stream: GaussianNoise.Stream.step(step.iteration)) },
                observe: { step, _, result in
                    state.iteration = step.iteration + 1
                    state.latents = result.sample
                    state.cacheCounter = cacheState?.counter ?? 0
                    state.cachedStream = cacheState?.cachedStream
                    let now = Date()
                    state.denoiseSeconds += now.timeIntervalSince(started)
                    started = now
                    progress(step.iteration + 1)
                    let control = observer.control()
                    if control != .proceed {
                        stopRequest = control
                        throw RenderError.stopped
                    }
                    if !step.isLast && (step.iteration + 1) % checkpointEvery == 0 { try observer.save(state) }
                })
        } catch RenderError.stopped {
            if stopRequest == .cancel { throw RenderError.cancelled }
            try observer.save(state)
            throw RenderError.stopped
        }
        return state.latents
    }
}
