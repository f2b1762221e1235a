// The "t2v" fixture suite: text-to-video transformer forwards (with debug intermediates), the CFG
// forward + DDIM step, Skip-Cache call sequences and, with the text encoder, whole sampling runs.
// Tolerances are the manifest's suggested relative bounds: max|Δ| / max|expected|.

import Checkpoints
import Diffusion
import Foundation
import Latte
import Sampling
import TensorCore
import TextEncoder

final class T2VRunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions
    private var transformer: LatteT2VTransformer?
    private var promptEncoder: T5PromptEncoder?

    init(fixtures: FixtureDirectory, options: ConformanceOptions) {
        self.fixtures = fixtures
        self.options = options
    }

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        switch kind {
        case "tokenizer": return try T2VTextCases.tokenizer(c, fixtures: fixtures)
        case "t5_encoder": return try T2VTextCases.t5Encoder(c, fixtures: fixtures, encoder: try textEncoder().encoder)
        case "transformer_forward": return try forward(c)
        case "cfg_forward":
            return try cfgForward(c)
                + T2VTextCases.cfgPromptEmbeddings(c, fixtures: fixtures, encoder: try textEncoder())
        case "skip_cache_sequence": return try cacheSequence(c)
        case "sampling": return try sampling(c)
        default: throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
        }
    }

    /// The transformer, loaded once like sample_t2v.py (base folder + the skip checkpoint's "ema").
    func model() throws(ConformanceError) -> LatteT2VTransformer {
        if let m = transformer { return m }
        let engine = try options.engine()
        do {
            let m = try LatteT2VTransformer.load(
                baseFolder: try fixtures.modelPath("latte_folder"),
                skipCheckpoint: try fixtures.modelPath("skip_checkpoint"),
                engine: engine)
            transformer = m
            return m
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
    }

    /// The tokenizer and T5 encoder of the fixture's base folder, loaded once.
    func textEncoder() throws(ConformanceError) -> T5PromptEncoder {
        if let e = promptEncoder { return e }
        let engine = try options.engine()
        do {
            let e = try T5PromptEncoder(
                tokenizer: try T5Tokenizer(directory: try fixtures.modelFolder("tokenizer")),
                encoder: try T5Encoder.load(folder: try fixtures.modelFolder("text_encoder"), engine: engine))
            promptEncoder = e
            return e
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
    }

    private func timesteps(_ node: ManifestNode, batch: Int) throws(ConformanceError) -> [Int] {
        if case .number = node.value { return Array(repeating: try node.int, count: batch) }
        let t = try node.ints
        return t.count == 1 ? Array(repeating: t[0], count: batch) : t
    }

    func forward(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model()
        let inputs = try c["inputs"]
        let x = try fixtures.tensor(inputs["hidden_states"])
        let caption = try fixtures.tensor(inputs["encoder_hidden_states"])
        var mask: [[Int]]?
        if let maskNode = inputs.optional("encoder_attention_mask") {
            let a = try fixtures.array(maskNode)
            let v = a.ints(), l = a.shape[1]
            mask = (0..<a.shape[0]).map { Array(v[$0 * l..<($0 + 1) * l]) }
        }
        var traces: [String: Tensor] = [:]
        var noCache: SkipCacheState? = nil
        let out = m.forward(
            x, timesteps: try timesteps(inputs["timestep"], batch: x.shape[0]), caption: caption, mask: mask,
            cache: &noCache
        ) { traces[$0] = $1 }
        let tol = try fixtures.relativeTolerance(kind: "transformer_forward", tensor: "output")
        var checks = [try fixtures.relativeCheck("output", out, c["expected"]["output"], tolerance: tol)]
        if let debug = c.optional("debug") {
            for name in debug.keys {
                guard let got = traces[name] else { throw .model("the T2V forward does not report '\(name)'") }
                checks.append(try fixtures.relativeCheck(name, got, debug[name], tolerance: tol))
            }
        }
        return checks
    }

    func cfgForward(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model()
        let inputs = try c["inputs"], expected = try c["expected"]
        let latents = try fixtures.tensor(inputs["latents"])
        let embeds = try fixtures.tensor(inputs["prompt_embeds_cfg"])
        let t = try c["timestep"].int
        let g = Float(try c["guidance_scale"].double)
        var noCache: SkipCacheState? = nil
        let raw = m.forward(Tensor(stacking: [latents, latents]), timesteps: [t, t], caption: embeds, cache: &noCache)
        let guided = ClassifierFreeGuidance.guideAll(raw, scale: g)
        let eps = ClassifierFreeGuidance.leadingChannels(guided, m.config.inChannels)
        let ddim = try c["ddim"]
        let scheduler: DDIMScheduler
        do { scheduler = try DDIMScheduler(steps: try ddim["num_inference_steps"].int) } catch {
            throw .model("\(error)")
        }
        let prevExpected = try ddim["prev_timestep"].int
        var checks = [
            Check(
                label: "prev_timestep", maxError: Double(abs(scheduler.previousTimestep(t) - prevExpected)),
                tolerance: 0),
            try fixtures.relativeCheck(
                "raw_output_batch2", raw, expected["raw_output_batch2"],
                tolerance: try fixtures.relativeTolerance(kind: "cfg_forward", tensor: "raw_output_batch2")),
        ]
        let stepTol = try fixtures.relativeTolerance(kind: "cfg_forward", tensor: "guided")
        checks.append(
            try fixtures.relativeCheck(
                "guided_all_channels", guided, expected["guided_all_channels"], tolerance: stepTol))
        checks.append(try fixtures.relativeCheck("eps_first4", eps, expected["eps_first4"], tolerance: stepTol))
        let prev = scheduler.step(sample: latents, eps: eps, timestep: t)
        checks.append(
            try fixtures.relativeCheck("ddim_prev_sample", prev, expected["ddim_prev_sample"], tolerance: stepTol))
        return checks
    }

    /// The case's encoder states: its own file, or "same_as": "case.inputs.key".
    private func resolveInput(_ node: ManifestNode) throws(ConformanceError) -> ManifestNode {
        guard let ref = node.optional("same_as") else { return node }
        var target = fixtures.manifest
        let path = try ref.string.split(separator: ".").map(String.init)
        guard let caseName = path.first else { throw .manifest("\(ref.path) is empty") }
        guard let found = try fixtures.manifest["cases"].array.first(where: { (try? $0["name"].string) == caseName })
        else {
            throw .manifest("\(ref.path) names unknown case \(caseName)")
        }
        target = found
        for key in path.dropFirst() { target = try target[key] }
        return target
    }

    func cacheSequence(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model()
        let flag = try c["cache_flag"].string
        guard let schedule = SkipCacheSchedule(textToVideoFlag: flag) else {
            throw .manifest("cache flag '\(flag)' is not N<gap>-<start>-<stop>")
        }
        let inputs = try c["inputs"]
        let latents = try fixtures.tensor(inputs["latents_per_step"])
        let embeds = try fixtures.tensor(try resolveInput(inputs["encoder_hidden_states"]))
        let ts = try c["timesteps"].ints
        let kinds = try c["step_kinds"].strings
        var state: SkipCacheState? = SkipCacheState(schedule: schedule)
        var checks: [Check] = []
        var outs: [Tensor] = []
        for (k, t) in ts.enumerated() {
            let x = slice(latents, k)
            if let mode = state?.mode(at: t), k < kinds.count {
                checks.append(
                    Check(
                        label: "step \(k) \(mode.rawValue) vs \(kinds[k])", maxError: mode.rawValue == kinds[k] ? 0 : 1,
                        tolerance: 0))
            }
            outs.append(m.forward(Tensor(stacking: [x, x]), timesteps: [t, t], caption: embeds, cache: &state))
        }
        let tol = try fixtures.relativeTolerance(kind: "skip_cache_sequence", tensor: "outputs")
        let expected = try fixtures.array(c["expected"]["outputs_per_step"])
        let per = expected.count / ts.count
        let values = expected.floats()
        for (k, out) in outs.enumerated() {
            let e = Array(values[k * per..<(k + 1) * per])
            let scale = e.reduce(0) { max($0, Double(abs($1))) }
            checks.append(Check(label: "outputs[\(k)]", maxError: maxAbsDifference(out, e) / scale, tolerance: tol))
        }
        return checks
    }

    /// A whole text-to-video sampling run as LattePipeline.__call__ does it: prompt and negative
    /// prompt through T5 (mask_feature), then per DDIM step the doubled latents, guidance on all
    /// channels, eps = the first C, the DDIM update; with Skip-Cache when the case has a flag.
    func sampling(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model()
        let sampler = try c["sampler"]
        let scheduler: DDIMScheduler
        do { scheduler = try DDIMScheduler(steps: try sampler["num_inference_steps"].int) } catch {
            throw .model("\(error)")
        }
        var checks = [
            Check(
                label: "timesteps", maxError: scheduler.timesteps == (try sampler["timesteps"].ints) ? 0 : 1,
                tolerance: 0)
        ]
        let embeddings: Tensor
        do {
            let request = PromptRequest(prompt: try c["prompt"].string, negativePrompt: try c["negative_prompt"].string)
            embeddings = try textEncoder().embeddings(for: request).batch
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
        var state: SkipCacheState? = nil
        if let flagNode = c.optional("cache_flag") {
            let flag = try flagNode.string
            guard let schedule = SkipCacheSchedule(textToVideoFlag: flag) else {
                throw .manifest("cache flag '\(flag)' is not N<gap>-<start>-<stop>")
            }
            state = SkipCacheState(schedule: schedule)
        }
        let kinds = try c["step_kinds"].strings
        let guidance = Float(try sampler["guidance_scale"].double)
        let x = try fixtures.tensor(try resolveInput(c["inputs"]["initial_noise"]))
        var trajectory: [Tensor] = []
        let final: Tensor
        do {
            let loop = try TextToVideoSampler(model: m, scheduler: scheduler, captions: embeddings, guidance: guidance)
            final = try loop.run(from: x, cache: state) { it in
                if it.index < kinds.count {
                    checks.append(
                        Check(
                            label: "step \(it.index) \(it.mode.rawValue) vs \(kinds[it.index])",
                            maxError: it.mode.rawValue == kinds[it.index] ? 0 : 1, tolerance: 0))
                }
                trajectory.append(it.latents)
            }
        } catch {
            throw .model("\(error)")
        }
        let tol = try fixtures.relativeTolerance(kind: "sampling")
        let expected = try c["expected"]
        let steps = try fixtures.array(expected["latents_after_each_step"])
        let per = steps.count / max(trajectory.count, 1)
        let values = steps.floats()
        guard steps.shape.first == trajectory.count else {
            throw .fixture(path: expected.path, reason: "\(steps.shape) expected for \(trajectory.count) steps")
        }
        for (k, got) in trajectory.enumerated() {
            checks.append(
                fixtures.relativeCheck(
                    "latents_after_each_step[\(k)]", got, Array(values[k * per..<(k + 1) * per]), tolerance: tol))
        }
        checks.append(try fixtures.relativeCheck("final_latents", final, expected["final_latents"], tolerance: tol))
        return checks
    }
}
