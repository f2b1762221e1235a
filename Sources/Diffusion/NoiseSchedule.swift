// The base (training) noise schedule of the official GaussianDiffusion
// (Skip-DiT class-to-video/diffusion/gaussian_diffusion.py, get_named_beta_schedule("linear")):
// betas = np.linspace(1e-4, 0.02, 1000) in float64, alphas_cumprod = np.cumprod(1 - betas).
// Everything here is Double, exactly as numpy computes it.

/// A beta schedule over the training timesteps 0..<count.
public struct NoiseSchedule: Sendable, Equatable {
    /// beta_t for t in 0..<count.
    public let betas: [Double]

    public var count: Int { betas.count }

    public init(betas: [Double]) {
        precondition(!betas.isEmpty, "a noise schedule needs at least one step")
        self.betas = betas
    }

    /// The "linear" schedule: scale = 1000/steps, betas = linspace(scale*1e-4, scale*0.02, steps),
    /// reproducing numpy.linspace's arithmetic (i*step + start, last element set to stop).
    public static func linear(steps: Int = 1000) -> NoiseSchedule {
        let scale = 1000.0 / Double(steps)
        return NoiseSchedule(betas: linspace(scale * 0.0001, scale * 0.02, steps))
    }

    /// numpy.linspace(start, stop, num) for float64 with endpoint=True.
    static func linspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
        guard num > 1 else { return num == 1 ? [start] : [] }
        let step = (stop - start) / Double(num - 1)
        var y = (0..<num).map { Double($0) * step + start }
        y[num - 1] = stop
        return y
    }

    /// cumprod(1 - betas), accumulated left to right like numpy.
    public var alphasCumprod: [Double] {
        var acc = 1.0
        return betas.map { beta in
            acc *= 1.0 - beta
            return acc
        }
    }
}
