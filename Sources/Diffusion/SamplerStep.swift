// One sampler iteration of the official GaussianDiffusion with learned-range variance and
// clip_denoised=False: p_mean_variance, then p_sample (DDPM) or ddim_sample (eta = 0).
// Arithmetic is float32 in the same operation order as the PyTorch code (coefficients are the
// float64 schedule values cast to float32).
//
// Shapes: x (B, F, C, H, W); model output (B, F, 2C, H, W) with channels [0, C) = eps and
// [C, 2C) = the variance interpolation value v; noise like x.

import Foundation
import TensorCore

/// The two samplers of the reference.
public enum SamplerMethod: String, Sendable, Codable, CaseIterable {
    /// p_sample_loop: ancestral sampling with the learned variance.
    case ddpm
    /// ddim_sample_loop with eta = 0: deterministic.
    case ddim
}

/// Everything one iteration produces (all shaped like x).
public struct SamplerStepResult {
    /// x_{t-1}: the next sampler state.
    public var sample: Tensor
    /// The x0 prediction (not clamped).
    public var predXstart: Tensor
    /// p_mean_variance's posterior mean (unused by DDIM, reported for conformance).
    public var mean: Tensor
    /// p_mean_variance's learned log variance (unused by DDIM).
    public var logVariance: Tensor
}

public struct Sampler: Sendable {
    public let method: SamplerMethod
    public let diffusion: RespacedDiffusion

    public init(method: SamplerMethod, diffusion: RespacedDiffusion) {
        self.method = method
        self.diffusion = diffusion
    }

    /// One iteration at respaced index k. `channels` is C (the model output has 2C channels on
    /// axis 2). `noise` is required for DDPM (ignored at k = 0, where it is masked) and unused by DDIM.
    public func step(x: Tensor, modelOutput out: Tensor, k: Int, noise: Tensor?) -> SamplerStepResult {
        precondition(x.rank == 5 && out.rank == 5, "x (B,F,C,H,W) and model output (B,F,2C,H,W) expected")
        let (b, f, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        precondition(out.shape == [b, f, 2 * c, h, w], "model output \(out.shape) does not match x \(x.shape)")
        precondition(method == .ddim || noise?.shape == x.shape, "DDPM needs noise shaped like x")
        let co = diffusion.coefficients(at: k)
        let block = c * h * w
        var sample = Tensor(zeros: x.shape)
        var x0 = Tensor(zeros: x.shape)
        var mean = Tensor(zeros: x.shape)
        var logVar = Tensor(zeros: x.shape)
        let xs = x.pointer, os = out.pointer
        let ns = noise?.pointer
        let sp = sample.mutablePointer(), x0p = x0.mutablePointer()
        let mp = mean.mutablePointer(), lp = logVar.mutablePointer()
        let noiseScale: Float = co.isLastStep ? 0 : 1
        // sigma = eta * ... = 0 for eta = 0; sqrt(1 - alpha_bar_prev - sigma²) in float32.
        let sqrtAbp = co.alphaBarPrev.squareRoot()
        let sqrtOneMinusAbp = (1 - co.alphaBarPrev - 0).squareRoot()
        withExtendedLifetime((x, out, noise)) {
            for r in 0..<(b * f) {
                let xr = xs + r * block, er = os + r * 2 * block, vr = er + block
                for i in 0..<block {
                    let xi = xr[i], eps = er[i], v = vr[i]
                    let frac = (v + 1) / 2
                    let lv = frac * co.maxLog + (1 - frac) * co.minLog
                    let pred = co.sqrtRecipAlphasCumprod * xi - co.sqrtRecipm1AlphasCumprod * eps
                    let mu = co.posteriorMeanCoef1 * pred + co.posteriorMeanCoef2 * xi
                    let o = r * block + i
                    lp[o] = lv
                    x0p[o] = pred
                    mp[o] = mu
                    switch method {
                    case .ddpm:
                        sp[o] = mu + noiseScale * expf(0.5 * lv) * (ns?[o] ?? 0)
                    case .ddim:
                        let epsPrime = (co.sqrtRecipAlphasCumprod * xi - pred) / co.sqrtRecipm1AlphasCumprod
                        sp[o] = pred * sqrtAbp + sqrtOneMinusAbp * epsPrime
                    }
                }
            }
        }
        return SamplerStepResult(sample: sample, predXstart: x0, mean: mean, logVariance: logVar)
    }
}
