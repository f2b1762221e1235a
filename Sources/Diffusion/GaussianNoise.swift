// Reproducible Gaussian noise of a render, from TensorCore's counter-based RandomNormal.
// The value at (seed, stream, index) never depends on what was drawn before, so a render that
// resumes at step k after a crash draws exactly the noise an uninterrupted run would: the whole
// "RNG state" is the seed and the step number. (PyTorch's generator cannot be reproduced here;
// the fixtures supply their noise instead.)

import TensorCore

public struct GaussianNoise: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// Well-known streams: the initial latents, and the DDPM noise of each sampler iteration.
    public enum Stream {
        public static let initialLatents: UInt64 = 0
        /// Noise drawn at sampler iteration i (0-based, in call order).
        public static func step(_ iteration: Int) -> UInt64 { 1 + UInt64(iteration) }
    }

    /// A tensor of independent N(0, 1) draws for `stream`.
    public func tensor(shape: [Int], stream: UInt64) -> Tensor {
        RandomNormal.tensor(shape: shape, seed: seed, stream: stream)
    }
}
