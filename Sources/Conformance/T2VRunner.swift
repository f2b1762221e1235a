// The "t2v" fixture suite: text-to-video transformer forwards (with debug intermediates), the CFG
// forward + DDIM step, Skip-Cache call sequences and, with the text encoder, whole sampling runs.
// Tolerances are the manifest's suggested relative bounds: max|Δ| / max|expected|.

import Checkpoints
import Diffusion
import Foundation
import Latte
import TensorCore

final class T2VRunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions
    private var transformer: LatteT2VTransformer?

    init(fixtures: FixtureDirectory, options: ConformanceOptions) {
        self.fixtures = fixtures
        self.options = options
    }

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        switch kind {
        case "transformer_forward": return try forward(c)
        case "cfg_forward": return try cfgForward(c)
        case "skip_cache_sequence": return try cacheSequence(c)
        default: throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
        }
    }

    /// The first path in a manifest "model_files" entry (entries are "path (comment)").
    private func modelFile(_ key: String) throws(ConformanceError) -> URL {
        let text = try fixtures.manifest["model_files"][key].string
        guard let path = text.split(separator: " ").first else { throw .manifest("model_files.\(key) is empty") }
        return fixtures.file(String(path))
    }

    /// The transformer, loaded once like sample_t2v.py (base folder + the skip checkpoint's "ema").
    func model() throws(ConformanceError) -> LatteT2VTransformer {
        if let m = transformer { return m }
        let engine = try options.engine()
        do {
            let m = try LatteT2VTransformer.load(
                baseFolder: try modelFile("latte_folder"), skipCheckpoint: try modelFile("skip_checkpoint"), engine: engine)
            transformer = m
            return m
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
    }

    /// The suggested relative tolerance for `tensor` of a case of `kind`: a manifest key naming
    /// "kind.tensor" wins over one naming the kind.
    func relativeTolerance(kind: String, tensor: String) throws(ConformanceError) -> Double {
        let suggested = try fixtures.manifest["suggested_tolerances"]
        var general: Double?
        for key in suggested.keys {
            guard case .number(let value) = try suggested[key].value else { continue }
            for part in key.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if part.hasPrefix("\(kind).\(tensor)") { return value }
                if general == nil, part == kind || part.hasPrefix("\(kind) ") { general = value }
            }
        }
        guard let general else { throw .manifest("suggested_tolerances has no bound for \(kind) \(tensor)") }
        return general
    }

    private func relativeCheck(_ label: String, _ got: Tensor, _ node: ManifestNode, tolerance: Double) throws(ConformanceError) -> Check {
        let expected = try fixtures.array(node)
        guard expected.count == got.count else {
            throw .fixture(path: node.path, reason: "\(expected.shape) expected, computed \(got.shape)")
        }
        let values = expected.floats()
        let scale = values.reduce(0) { max($0, Double(abs($1))) }
        return Check(label: label, maxError: maxAbsDifference(got, values) / max(scale, .leastNormalMagnitude), tolerance: tolerance)
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
            x, timesteps: try timesteps(inputs["timestep"], batch: x.shape[0]), caption: caption, mask: mask, cache: &noCache
        ) { traces[$0] = $1 }
        let tol = try relativeTolerance(kind: "transformer_forward", tensor: "output")
        var checks = [try relativeCheck("output", out, c["expected"]["output"], tolerance: tol)]
        if let debug = c.optional("debug") {
            for name in debug.keys {
                guard let got = traces[name] else { throw .model("the T2V forward does not report '\(name)'") }
                checks.append(try relativeCheck(name, got, debug[name], tolerance: tol))
            }
        }
        return checks
    }

    /// Guided = uncond + g·(cond − uncond) on all channels; rows: [uncond, cond].
    static func guide(_ raw: Tensor, scale: Float) -> Tensor {
        let half = raw.count / 2
        var out = Tensor(zeros: [1] + raw.shape.dropFirst())
        let o = out.mutablePointer(), r = raw.pointer
        withExtendedLifetime(raw) {
            for i in 0..<half { o[i] = r[i] + scale * (r[half + i] - r[i]) }
        }
        return out
    }

    /// The first `channels` channels of (1, C', F, H, W).
    static func firstChannels(_ t: Tensor, _ channels: Int) -> Tensor {
        var shape = t.shape
        shape[1] = channels
        var out = Tensor(zeros: shape)
        out.mutablePointer().update(from: t.pointer, count: out.count)
        return withExtendedLifetime(t) { out }
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
        let guided = Self.guide(raw, scale: g)
        let eps = Self.firstChannels(guided, m.config.inChannels)
        let ddim = try c["ddim"]
        let scheduler: DDIMScheduler
        do { scheduler = try DDIMScheduler(steps: try ddim["num_inference_steps"].int) } catch { throw .model("\(error)") }
        let prevExpected = try ddim["prev_timestep"].int
        var checks = [
            Check(label: "prev_timestep", maxError: Double(abs(scheduler.previousTimestep(t) - prevExpected)), tolerance: 0),
            try relativeCheck("raw_output_batch2", raw, expected["raw_output_batch2"], tolerance: try relativeTolerance(kind: "cfg_forward", tensor: "raw_output_batch2")),
        ]
        let stepTol = try relativeTolerance(kind: "cfg_forward", tensor: "guided")
        checks.append(try relativeCheck("guided_all_channels", guided, expected["guided_all_channels"], tolerance: stepTol))
        checks.append(try relativeCheck("eps_first4", eps, expected["eps_first4"], tolerance: stepTol))
        let prev = scheduler.step(sample: latents, eps: eps, timestep: t)
        checks.append(try relativeCheck("ddim_prev_sample", prev, expected["ddim_prev_sample"], tolerance: stepTol))
        return checks
    }

    /// "N<gap>-<start>-<stop>" (the official flag form).
    static func parseCacheFlag(_ flag: String) throws(ConformanceError) -> SkipCacheSchedule {
        let parts = flag.split(separator: "-")
        guard parts.count == 3, parts[0].hasPrefix("N"), let gap = Int(parts[0].dropFirst()), let start = Int(parts[1]),
            let stop = Int(parts[2]), gap >= 1
        else { throw .manifest("cache flag '\(flag)' is not N<gap>-<start>-<stop>") }
        return .textToVideo(interval: gap, start: start, stop: stop)
    }

    /// The case's encoder states: its own file, or "same_as": "case.inputs.key".
    private func resolveInput(_ node: ManifestNode) throws(ConformanceError) -> ManifestNode {
        guard let ref = node.optional("same_as") else { return node }
        var target = fixtures.manifest
        let path = try ref.string.split(separator: ".").map(String.init)
        guard let caseName = path.first else { throw .manifest("\(ref.path) is empty") }
        guard let found = try fixtures.manifest["cases"].array.first(where: { (try? $0["name"].string) == caseName }) else {
            throw .manifest("\(ref.path) names unknown case \(caseName)")
        }
        target = found
        for key in path.dropFirst() { target = try target[key] }
        return target
    }

    func cacheSequence(_ c: ManifestNode) throws(ConformanceError) -> [Check] {
        let m = try model()
        let schedule = try Self.parseCacheFlag(try c["cache_flag"].string)
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
                checks.append(Check(label: "step \(k) \(mode.rawValue) vs \(kinds[k])", maxError: mode.rawValue == kinds[k] ? 0 : 1, tolerance: 0))
            }
            outs.append(m.forward(Tensor(stacking: [x, x]), timesteps: [t, t], caption: embeds, cache: &state))
        }
        let tol = try relativeTolerance(kind: "skip_cache_sequence", tensor: "outputs")
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
}
