// The diffusers DDIMScheduler (0.24) as the text-to-video pipeline uses it: float32 linear betas
// (torch.linspace arithmetic), alphas_cumprod in float32, "leading" timestep spacing, eta = 0,
// epsilon prediction, no clipping, set_alpha_to_one for the last step.
// Shapes: sample and eps (B, C, F, H, W) (any shape; the update is elementwise).

import Foundation
import TensorCore

/// scheduler/scheduler_config.json (diffusers); only the fields the pipeline relies on.
public struct DDIMSchedulerConfig: Sendable, Equatable, Codable {
    public var numTrainTimesteps: Int = 1000
    public var betaStart: Double = 0.0001
    public var betaEnd: Double = 0.02
    public var betaSchedule: String = "linear"
    public var setAlphaToOne: Bool = true
    public var stepsOffset: Int = 0
    public var timestepSpacing: String = "leading"
    public var predictionType: String = "epsilon"

    enum CodingKeys: String, CodingKey {
        case numTrainTimesteps = "num_train_timesteps"
        case betaStart = "beta_start"
        case betaEnd = "beta_end"
        case betaSchedule = "beta_schedule"
        case setAlphaToOne = "set_alpha_to_one"
        case stepsOffset = "steps_offset"
        case timestepSpacing = "timestep_spacing"
        case predictionType = "prediction_type"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numTrainTimesteps = try c.decodeIfPresent(Int.self, forKey: .numTrainTimesteps) ?? 1000
        betaStart = try c.decodeIfPresent(Double.self, forKey: .betaStart) ?? 0.0001
        betaEnd = try c.decodeIfPresent(Double.self, forKey: .betaEnd) ?? 0.02
        betaSchedule = try c.decodeIfPresent(String.self, forKey: .betaSchedule) ?? "linear"
        setAlphaToOne = try c.decodeIfPresent(Bool.self, forKey: .setAlphaToOne) ?? true
        stepsOffset = try c.decodeIfPresent(Int.self, forKey: .stepsOffset) ?? 0
        timestepSpacing = try c.decodeIfPresent(String.self, forKey: .timestepSpacing) ?? "leading"
        predictionType = try c.decodeIfPresent(String.self, forKey: .predictionType) ?? "epsilon"
    }
}

/// Errors in a scheduler configuration.
public enum SchedulerError: Error, CustomStringConvertible {
    case unsupported(String)

    public var description: String {
        switch self {
        case .unsupported(let m): return "unsupported DDIM scheduler setting: \(m)"
        }
    }
}

public struct DDIMScheduler: Sendable {
    public let config: DDIMSchedulerConfig
    /// alphas_cumprod over the training timesteps (float32).
    public let alphasCumprod: [Float]
    /// The inference timesteps, descending (e.g. 980, 960, …, 0 for 50 steps).
    public let timesteps: [Int]
    private let stepRatio: Int

    /// `set_timesteps(n)` on a scheduler built from `config`. The sample script's overrides
    /// (linear 1e-4…0.02, no clipping) are the defaults.
    public init(config: DDIMSchedulerConfig = .init(), steps n: Int) throws {
        guard config.betaSchedule == "linear" else {
            throw SchedulerError.unsupported("beta_schedule \(config.betaSchedule)")
        }
        guard config.timestepSpacing == "leading" else {
            throw SchedulerError.unsupported("timestep_spacing \(config.timestepSpacing)")
        }
        guard config.predictionType == "epsilon" else {
            throw SchedulerError.unsupported("prediction_type \(config.predictionType)")
        }
        guard n >= 1, n <= config.numTrainTimesteps else {
            throw ScheduleError.invalidStepCount(requested: n, available: config.numTrainTimesteps)
        }
        self.config = config
        let count = config.numTrainTimesteps
        // torch.linspace(start, end, count, dtype=float32): float32 step, the first half counted
        // from the start and the second half from the end.
        let start = Float(config.betaStart), end = Float(config.betaEnd)
        let step = (end - start) / Float(count - 1)
        let betas: [Float] = (0..<count).map { i in
            i < count / 2 ? start + step * Float(i) : end - step * Float(count - 1 - i)
        }
        // torch.cumprod on CPU accumulates float32 in double and rounds each output.
        var acc = 1.0
        alphasCumprod = betas.map { beta in
            acc *= Double(1 - beta)
            return Float(acc)
        }
        let ratio = count / n
        stepRatio = ratio
        timesteps = (0..<n).reversed().map { $0 * ratio + config.stepsOffset }
    }

    /// ᾱ at timestep t (the final value when t < 0: 1 with set_alpha_to_one, else ᾱ(0)).
    public func alphaProduct(at t: Int) -> Float {
        t >= 0 ? alphasCumprod[t] : (config.setAlphaToOne ? 1 : alphasCumprod[0])
    }

    /// The timestep after `t` (t − 1000/n).
    public func previousTimestep(_ t: Int) -> Int { t - stepRatio }

    /// One DDIM step (eta 0) from timestep t with predicted noise eps; returns x_{t'}.
    public func step(sample x: Tensor, eps: Tensor, timestep t: Int) -> Tensor {
        precondition(x.shape == eps.shape, "eps \(eps.shape) does not match the sample \(x.shape)")
        let alphaT = alphaProduct(at: t), alphaPrev = alphaProduct(at: previousTimestep(t))
        let betaT = 1 - alphaT
        let sqrtBeta = betaT.squareRoot(), sqrtAlpha = alphaT.squareRoot()
        let sqrtAlphaPrev = alphaPrev.squareRoot(), direction = (1 - alphaPrev - 0).squareRoot()
        var out = Tensor(zeros: x.shape)
        let o = out.mutablePointer(), xp = x.pointer, ep = eps.pointer
        withExtendedLifetime((x, eps)) {
            for i in 0..<x.count {
                let x0 = (xp[i] - sqrtBeta * ep[i]) / sqrtAlpha
                o[i] = sqrtAlphaPrev * x0 + direction * ep[i]
            }
        }
        return out
    }
}
