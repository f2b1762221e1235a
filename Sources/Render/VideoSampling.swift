// What the pipeline needs from a task: the latents of a seed, a resumable denoise loop, and a
// frame decoder with its scaling rule and uint8 conversion. Class-to-video and text-to-video
// implement these; the pipeline around them (videos, checkpoints, files) is shared.

import Foundation
import TensorCore
import VAE

/// The denoise loop of one task.
protocol VideoSampling {
    /// The sampler state of one video, e.g. (1, F, C, H, W) for class-to-video.
    var latentShape: [Int] { get }
    func initialLatents(seed: Int) -> Tensor
    /// Runs (or resumes) the loop from `state`, saving it every few steps; returns the final latents.
    func denoise(seed: Int, state: inout RenderState, observer: RenderObserver, progress: (Int, StepTiming) -> Void) throws
        -> Tensor
    /// The latents as frames (F, C, h, w) divided by the VAE's scaling factor, the task's way.
    func framesToDecode(_ latents: Tensor, scalingFactor: Double) -> Tensor
    /// How decoded frames become bytes.
    var rounding: FrameRounding { get }
}

/// A VAE that decodes latent frames (F, C, h, w) into RGB frames (3, H, W), streaming them.
protocol FrameDecoder {
    var scalingFactor: Double { get }
    /// Output pixels per latent pixel.
    var upsampling: Int { get }
    func decodeFrames(_ z: Tensor, frameHandler: (Int, Tensor) throws -> Void) throws
}

extension VAEDecoder: FrameDecoder {
    var upsampling: Int { Int(config.upsamplingFactor) }
    func decodeFrames(_ z: Tensor, frameHandler: (Int, Tensor) throws -> Void) throws {
        try decode(z: z, frameHandler: frameHandler)
    }
}

extension TemporalVAEDecoder: FrameDecoder {
    var upsampling: Int { 1 << (config.blockOutChannels.count - 1) }
    func decodeFrames(_ z: Tensor, frameHandler: (Int, Tensor) throws -> Void) throws {
        try decode(z: z, frameHandler: frameHandler)
    }
}
