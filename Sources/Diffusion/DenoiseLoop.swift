// The sampling loop: iterate the respaced steps from noise to data, calling the model with the
// ORIGINAL timestep, then the sampler update. Each iteration is a cancellation/checkpoint point:
// `observe` may throw to stop, and `run(from:)` resumes at any iteration with a saved state.

import TensorCore

/// Where the loop is: iteration i (0-based call order), its respaced index k = n-1-i and the
/// original timestep the model receives.
public struct DenoiseStep: Sendable, Equatable {
    public let iteration: Int
    public let respacedIndex: Int
    public let timestep: Int
    public let totalIterations: Int
    public var isLast: Bool { iteration == totalIterations - 1 }
}

public struct DenoiseLoop: Sendable {
    public let sampler: Sampler

    public init(sampler: Sampler) { self.sampler = sampler }

    /// The iterations in call order (t descending).
    public var steps: [DenoiseStep] {
        let n = sampler.diffusion.count
        return (0..<n).map { i in
            let k = n - 1 - i
            return DenoiseStep(
                iteration: i, respacedIndex: k, timestep: sampler.diffusion.timestepMap[k], totalIterations: n)
        }
    }

    /// Runs iterations `start..<n` from state `x` (the state before iteration `start`).
    /// - model: returns the (B, F, 2C, H, W) output for (x, step) — guidance already applied.
    /// - noise: the DDPM noise of a step (shaped like x); not called for DDIM.
    /// - observe: sees each step's model output and result after the update; throw to stop.
    /// Returns the final state.
    public func run(
        from x: Tensor, startIteration start: Int = 0,
        model: (Tensor, DenoiseStep) throws -> Tensor,
        noise: (DenoiseStep) throws -> Tensor,
        observe: (DenoiseStep, _ modelOutput: Tensor, SamplerStepResult) throws -> Void = { _, _, _ in }
    ) throws -> Tensor {
        let all = steps
        precondition(start >= 0 && start <= all.count, "start iteration \(start) outside 0...\(all.count)")
        var state = x
        for step in all[start...] {
            let out = try model(state, step)
            let n: Tensor? = sampler.method == .ddpm ? try noise(step) : nil
            let result = sampler.step(x: state, modelOutput: out, k: step.respacedIndex, noise: n)
            state = result.sample
            try observe(step, out, result)
        }
        return state
    }
}
