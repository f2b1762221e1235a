// The respaced diffusion (official SpacedDiffusion over GaussianDiffusion, learned-range variance):
// every coefficient array recomputed from the respaced betas in float64, indexed by the respaced
// step k = 0..n-1 (ascending original time; the sampler runs k = n-1 down to 0).

import Foundation

/// Float64 coefficient arrays of a respaced diffusion, as gaussian_diffusion.py computes them.
public struct RespacedDiffusion: Sendable {
    /// Original timestep s_k for respaced index k (ascending). The model receives these values.
    public let timestepMap: [Int]
    public let betas: [Double]
    public let alphasCumprod: [Double]
    public let alphasCumprodPrev: [Double]
    public let posteriorVariance: [Double]
    public let posteriorLogVarianceClipped: [Double]
    public let posteriorMeanCoef1: [Double]
    public let posteriorMeanCoef2: [Double]
    public let sqrtRecipAlphasCumprod: [Double]
    public let sqrtRecipm1AlphasCumprod: [Double]
    /// log(betas): the upper end of the learned-range variance.
    public let logBetas: [Double]

    /// Number of sampling steps n.
    public var count: Int { timestepMap.count }

    /// `create_diffusion(str(n))` over the given base schedule (default: linear, 1000 steps).
    public init(steps n: Int, base: NoiseSchedule = .linear()) throws(ScheduleError) {
        let kept = try Respacing.timesteps(count: n, outOf: base.count)
        let keptSet = Set(kept)
        var newBetas: [Double] = []
        var last = 1.0
        for (t, ac) in base.alphasCumprod.enumerated() where keptSet.contains(t) {
            newBetas.append(1 - ac / last)
            last = ac
        }
        self.init(timestepMap: kept, betas: newBetas)
    }

    /// GaussianDiffusion.__init__ for explicit betas.
    init(timestepMap: [Int], betas: [Double]) {
        precondition(timestepMap.count == betas.count && !betas.isEmpty, "one beta per kept timestep")
        self.timestepMap = timestepMap
        self.betas = betas
        let ac = NoiseSchedule(betas: betas).alphasCumprod
        let acPrev = [1.0] + ac.dropLast()
        alphasCumprod = ac
        alphasCumprodPrev = acPrev
        let n = betas.count
        let postVar: [Double] = (0..<n).map { i in betas[i] * (1.0 - acPrev[i]) / (1.0 - ac[i]) }
        posteriorVariance = postVar
        // log(append(posterior_variance[1], posterior_variance[1:])): the first entry would be log(0).
        let clipped: [Double] = n > 1 ? [postVar[1]] + Array(postVar[1...]) : postVar
        posteriorLogVarianceClipped = clipped.map { Foundation.log($0) }
        var coef1 = [Double](repeating: 0, count: n)
        var coef2 = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let alpha: Double = 1.0 - betas[i]
            coef1[i] = betas[i] * acPrev[i].squareRoot() / (1.0 - ac[i])
            coef2[i] = (1.0 - acPrev[i]) * alpha.squareRoot() / (1.0 - ac[i])
        }
        posteriorMeanCoef1 = coef1
        posteriorMeanCoef2 = coef2
        sqrtRecipAlphasCumprod = ac.map { (1.0 / $0).squareRoot() }
        sqrtRecipm1AlphasCumprod = ac.map { (1.0 / $0 - 1).squareRoot() }
        logBetas = betas.map { Foundation.log($0) }
    }

    /// The coefficients of step k, each cast to Float32 as `_extract_into_tensor` does.
    public func coefficients(at k: Int) -> StepCoefficients {
        StepCoefficients(
            sqrtRecipAlphasCumprod: Float(sqrtRecipAlphasCumprod[k]),
            sqrtRecipm1AlphasCumprod: Float(sqrtRecipm1AlphasCumprod[k]),
            posteriorMeanCoef1: Float(posteriorMeanCoef1[k]),
            posteriorMeanCoef2: Float(posteriorMeanCoef2[k]),
            minLog: Float(posteriorLogVarianceClipped[k]),
            maxLog: Float(logBetas[k]),
            alphaBarPrev: Float(alphasCumprodPrev[k]),
            isLastStep: k == 0)
    }
}

/// Float32 coefficients of one respaced step.
public struct StepCoefficients: Sendable {
    public var sqrtRecipAlphasCumprod: Float
    public var sqrtRecipm1AlphasCumprod: Float
    public var posteriorMeanCoef1: Float
    public var posteriorMeanCoef2: Float
    /// posterior_log_variance_clipped[k]
    public var minLog: Float
    /// log(betas[k])
    public var maxLog: Float
    public var alphaBarPrev: Float
    /// k == 0: DDPM adds no noise.
    public var isLastStep: Bool
}
