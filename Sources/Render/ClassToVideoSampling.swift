// The class-to-video task of the pipeline: z ~ N(0, I) of shape (1, F, C, H, W) from the seed,
// the shared ClassToVideoSampler (sample.py's loop, CFG and Skip-Cache), the render's checkpoints
// every few steps and a stop/cancel poll at every step boundary; decoding divides by the scaling
// factor and rounds half up (sample.py).

import Diffusion
import Latte
import Sampling
import TensorCore
import VAE

struct ClassToVideoSampling: VideoSampling {
    let sampler: ClassToVideoSampler
    let cache: SkipCacheSchedule?
    /// Save the state every this many steps (and whenever stopping).
    let checkpointEvery: Int

    /// (1, F, C, H, W)
    var latentShape: [Int] {
        let c = sampler.model.config
        return [1, c.numFrames, c.inChannels, c.latentSize, c.latentSize]
    }

    var rounding: FrameRounding { .roundHalfUp }

    /// (1, F, C, h, w) -> (F, C, h, w) / scaling factor (sample.py divides).
    func framesToDecode(_ latents: Tensor, scalingFactor: Double) -> Tensor {
        var z = latents.reshaped(Array(latents.shape.dropFirst()))
        let s = Float(scalingFactor)
        let p = z.mutablePointer()
        for i in 0..<z.count { p[i] /= s }
        return z
    }

    func initialLatents(seed: Int) -> Tensor {
        GaussianNoise(seed: UInt64(bitPattern: Int64(seed))).tensor(
            shape: latentShape, stream: GaussianNoise.Stream.initialLatents)
    }

    func denoise(seed: Int, state: inout RenderState, observer: RenderObserver, progress: (Int, StepTiming) -> Void) throws
        -> Tensor
    {
        let noise = GaussianNoise(seed: UInt64(bitPattern: Int64(seed)))
        let initialCache = cache.map {
            SkipCacheState(
                schedule: $0, counter: state.cacheCounter, cachedStream: state.cachedStream,
                reference: state.cacheReference, cachedRun: state.cachedRun, runStartChange: state.runStartChange)
        }
        var clock = StepClock()
        let steps = sampler.loop.sampler.diffusion.count
        _ = try sampler.run(
            from: state.latents, startIteration: state.iteration, cache: initialCache,
            noise: { step in noise.tensor(shape: latentShape, stream: GaussianNoise.Stream.step(step.iteration)) },
            observe: { it in
                try state.record(
                    step: it.step.iteration, of: steps, mode: it.mode, forwardSeconds: it.forwardSeconds,
                    latents: it.result.sample, cache: it.cache, clock: &clock, checkpointEvery: checkpointEvery,
                    observer: observer, progress: progress)
            })
        return state.latents
    }
}
