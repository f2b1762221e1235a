// c2v cases that run the Latte-skip network: "forward" (with named intermediates), "forward_cfg",
// "cache_sequence" (Skip-Cache state carried across calls) and "sample" (whole sampling runs with
// per-step model output, x0 prediction and trajectory).

import Checkpoints
import Diffusion
import Foundation
import Latte
import Sampling
import TensorCore

struct C2VModelCases {
    let fixtures: FixtureDirectory
    let level: ToleranceLevel
    let model: (String) throws(ConformanceError) -> LatteTransformer

    /// Timesteps: an int64 .npy entry or an inline list.
    private func ints(_ node: ManifestNode) throws(ConformanceError) -> [Int] {
        if case .array = node.value { return try node.ints }
        return try fixtures.array(node).ints()
    }

    private func labels(_ inputs: ManifestNode) throws(ConformanceError) -> [Int]? {
        guard let y = inputs.optional("y") ?? inputs.optional("labels") else { return nil }
        return try ints(y)
    }

    /// The official forward_with_cfg: run cat([x[:B], x[:B]]) with y, guide eps (first C channels).
    static func forwardWithCFG(
        _ m: LatteTransformer, _ x: Tensor, timesteps: [Int], labels: [Int]?, scale: Float, cache: inout SkipCacheState?
    ) -> Tensor {
        let half = ClassifierFreeGuidance.conditionalHalf(x)
        let out = m.forward(ClassifierFreeGuidance.doubled(half), timesteps: timesteps, labels: labels, cache: &cache)
        return ClassifierFreeGuidance.combine(out, scale: scale, guidedChannels: m.config.inChannels)
    }

    func forward(_ c: ManifestNode, cfg: Bool) throws(ConformanceError) -> [Check] {
        let m = try model(try c["model"].string)
        let inputs = try c["inputs"]
        let x = try fixtures.tensor(inputs["x"])
        let t = try ints(inputs["t"])
        let y = try labels(inputs)
        var traces: [String: Tensor] = [:]
        var noCache: SkipCacheState? = nil
        let out: Tensor
        if cfg {
            out = Self.forwardWithCFG(
                m, x, timesteps: t, labels: y, scale: Float(try c["cfg_scale"].double), cache: &noCache)
        } else {
            out = m.forward(x, timesteps: t, labels: y, cache: &noCache) { traces[$0] = $1 }
        }
        var checks = [try fixtures.check("out", out, against: c["expected"]["out"], level: level)]
        if let intermediates = c.optional("intermediates") {
            for name in intermediates.keys {
                guard let got = traces[name] else { throw .model("the forward does not report intermediate '\(name)'") }
                checks.append(try fixtures.check(name, got, against: intermediates[name], level: level))
            }
        }
        return checks
    }

    static func schedule(_ cache: ManifestNode) throws(ConformanceError) -> SkipCacheSchedule {
        var s = SkipCacheSchedule.classToVideo(interval: try cache["skip_N"].int)
        if let b = cache.optional("skip_at_branch") { s.branch = try b.int }
        if let v = cache.optional("start_deepcache_at") { s.start = try v.int }
        if let v = cache.optional("close_deepcache_at") { s.stop = try v.int }
        return s
    }

    private static func modeCheck(_ label: String, _ got: StepMode, _ expected: String) -> Check {
        Check(
            label: "\(label) mode \(got.rawValue) vs \(expected)", maxError: expected.hasPrefix(got.rawValue) ? 0 : 1,
            tolerance: 0)
    }

    func cacheSequence(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model(try c["model"].string)
        let inputs = try c["inputs"]
        let xs = try fixtures.tensor(inputs["x_seq"])
        let ts = try ints(inputs["t_seq"])
        let y = try labels(inputs)
        let scale = try c.optional("cfg_scale").map { (n) throws(ConformanceError) in Float(try n.double) }
        let modes = try c["modes"].strings
        var state: SkipCacheState? = SkipCacheState(schedule: try Self.schedule(c["cache"]))
        var checks: [Check] = []
        var outs: [Tensor] = []
        for (k, t) in ts.enumerated() {
            let x = slice(xs, k)
            let b = x.shape[0]
            if let mode = state?.mode(at: t), k < modes.count {
                checks.append(Self.modeCheck("call \(k)", mode, modes[k]))
            }
            if let scale {
                outs.append(
                    Self.forwardWithCFG(
                        m, x, timesteps: Array(repeating: t, count: b), labels: y, scale: scale, cache: &state))
            } else {
                outs.append(m.forward(x, timesteps: Array(repeating: t, count: b), labels: y, cache: &state))
            }
        }
        checks += try fixtures.checkSteps("out", outs, against: c["expected"]["out_seq"], level: level)
        return checks
    }

    func sample(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model(try c["model"].string)
        let samplerNode = try c["sampler"]
        guard let method = SamplerMethod(rawValue: try samplerNode["method"].string) else {
            throw .manifest("\(samplerNode.path).method is not ddpm or ddim")
        }
        let inputs = try c["inputs"]
        let z = try fixtures.tensor(inputs["z"])
        let noise = try inputs.optional("noise_steps").map { (n) throws(ConformanceError) in try fixtures.tensor(n) }
        let useCFG = try c.optional("uses_cfg")?.bool ?? false
        let scale = useCFG ? Float(try c.optional("cfg_scale")?.double ?? 1) : 1
        if useCFG, let null = try c.optional("null_class_id")?.int, null != m.config.nullClass {
            throw .manifest("\(c.path).null_class_id \(null) is not the model's null class \(m.config.nullClass ?? -1)")
        }
        let sampler: ClassToVideoSampler
        do {
            sampler = try ClassToVideoSampler(
                model: m, method: method, steps: try samplerNode["num_sampling_steps"].int, guidance: scale,
                labels: try labels(inputs))
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
        let cache = try c.optional("cache").map { (n) throws(ConformanceError) in
            SkipCacheState(schedule: try Self.schedule(n))
        }
        let expectedModes = try c.optional("modes_per_step")?.strings
        var checks: [Check] = []
        var modelOuts: [Tensor] = [], preds: [Tensor] = [], traj: [Tensor] = []
        let final: Tensor
        do {
            final = try sampler.run(
                from: z, cache: cache,
                noise: { step in
                    guard let noise else { throw ConformanceError.manifest("\(c.path): DDPM case without noise_steps") }
                    return slice(noise, step.iteration)
                },
                observe: { it in
                    if let e = expectedModes, cache != nil, it.step.iteration < e.count {
                        checks.append(Self.modeCheck("step \(it.step.iteration)", it.mode, e[it.step.iteration]))
                    }
                    modelOuts.append(it.modelOutput)
                    preds.append(it.result.predXstart)
                    traj.append(it.result.sample)
                })
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
        let expected = try c["expected"]
        checks += try fixtures.checkSteps("model_out", modelOuts, against: expected["model_out"], level: level)
        checks += try fixtures.checkSteps("pred_xstart", preds, against: expected["pred_xstart"], level: level)
        checks += try fixtures.checkSteps("trajectory", traj, against: expected["trajectory"], level: level)
        checks.append(try fixtures.check("final", final, against: expected["final"], level: level))
        return checks
    }
}
