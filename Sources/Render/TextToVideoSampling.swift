// The text-to-video task of the pipeline: latents (1, C, F, H, W) from the seed, the shared
// TextToVideoSampler (LattePipeline's loop, guidance, Skip-Cache with the reset after t <= stop),
// the render's checkpoints and stop/cancel polls; decoding multiplies by 1/scaling_factor and
// truncates to uint8 (the official pipeline).

import Diffusion
import Latte
import Sampling
import TensorCore
import VAE

struct TextToVideoSampling: VideoSampling {
    let sampler: TextToVideoSampler
    let cache: SkipCacheSchedule?
    let frames: Int
    let checkpointEvery: Int

    var latentShape: [Int] {
        let c = sampler.model.config
        return [1, c.inChannels, frames, c.sampleSize, c.sampleSize]
    }

    var rounding: FrameRounding { .truncate }

    func initialLatents(seed: Int) -> Tensor {
        GaussianNoise(seed: UInt64(bitPattern: Int64(seed))).tensor(
            shape: latentShape, stream: GaussianNoise.Stream.initialLatents)
    }

    func framesToDecode(_ latents: Tensor, scalingFactor: Double) -> Tensor {
        let frames = Layout.permute(latents, [0, 2, 1, 3, 4])  // (1, F, C, h, w)
        var z = frames.reshaped(Array(frames.shape.dropFirst()))
        let inverse = Float(1 / scalingFactor)
        let p = z.mutablePointer()
        for i in 0..<z.count { p[i] *= inverse }
        return z
    }

    func denoise(seed: Int, state: inout RenderState, observer: RenderObserver, progress: (Int, StepTiming) -> Void) throws
        -> Tensor
    {
        let initialCache = cache.map {
            SkipCacheState(
                schedule: $0, counter: state.cacheCounter, cachedStream: state.cachedStream,
                reference: state.cacheReference, cachedRun: state.cachedRun, runStartChange: state.runStartChange)
        }
        var clock = StepClock()
        let steps = sampler.scheduler.timesteps.count
        _ = try sampler.run(from: state.latents, startStep: state.iteration, cache: initialCache) { it in
            try state.record(
                step: it.index, of: steps, mode: it.mode, forwardSeconds: it.forwardSeconds, latents: it.latents,
                cache: it.cache, clock: &clock, checkpointEvery: checkpointEvery, observer: observer,
                progress: progress)
        }
        return state.latents
    }
}
