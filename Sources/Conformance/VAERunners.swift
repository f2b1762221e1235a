// Conformance runners for the "vae" (2-D AutoencoderKL) and "vae-temporal" (SVD temporal decoder)
// fixture suites. Everything comes from the manifest: model variants (folder, weights file and its
// config.json, or for a single file without one the configuration inferred from its tensor shapes,
// as diffusers' single-file loader does), cases (latents, z, decode calls or chunk size, expected outputs,
// per-module intermediates) and tolerances_recommended (fp32) or the half-precision entry (bf16).
//
// Per case: scaling factor, latents -> z, z -> decoded (the network alone, fed the fixture's z),
// decoded -> uint8 (both conversions when present), and every intermediate. A bf16 run is judged by
// the manifest's half-precision bounds, which cover decoded and uint8 only, so it skips the
// intermediates (their magnitudes grow through the network; no bound is given for them).

import Checkpoints
import Foundation
import TensorCore
import VAE

struct VAERunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        guard kind == "decode" else { throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind) }
        let tolerances = try VAETolerances(fixtures.manifest, precision: options.precision)
        let engine = try options.engine()
        let variantName = try c["model_variant"].string
        let variant = try fixtures.manifest["model_variants"][variantName]
        let folder = fixtures.file(try variant["dir"].string)
        let weights = try weightsURL(variant, folder: folder)
        var checks: [Check] = []
        let config: AutoencoderKLConfig
        switch VAEWeights.configSource(for: weights) {
        case .file(let url):
            do { config = try AutoencoderKLConfig.load(url) } catch { throw .model("\(variant.path): \(error)") }
        case .inferredFromShapes:
            let (inferred, check) = try inferredConfig(weights, variant: variant)
            config = inferred
            if let check { checks.append(check) }
        }
        let decoder: VAEDecoder
        do {
            decoder = try VAEDecoder(weights: weights, config: config, engine: engine)
        } catch { throw .model("\(error)") }

        let applied = try c["scaling_factor_applied"].double
        checks.append(Check(label: "scaling factor", maxError: abs(decoder.scalingFactor - applied), tolerance: 0))

        let inputs = try c["inputs"], outputs = try c["outputs"]
        let latents = try fixtures.tensor(inputs["latents"])
        let z = try fixtures.tensor(inputs["z"])
        checks.append(
            tolerances.float("latents -> z", decoder.latentsToZ(latents), try fixtures.array(inputs["z"]).floats()))

        var list: IntermediateList?
        if tolerances.checksIntermediates, let node = c.optional("intermediates") {
            list = try IntermediateList(node, fixtures: fixtures)
        }
        let observed = ObservedModules(list)
        var decoded = Tensor(zeros: try outputs["decoded"]["shape"].ints)
        let frameSize = decoded.count / max(z.shape[0], 1)
        let out = decoded.mutablePointer()
        decoder.decode(z: z, observer: observed.observer) { f, frame in
            precondition(frame.count == frameSize, "frame \(f): \(frame.shape) does not fit \(decoded.shape)")
            (out + f * frameSize).update(from: frame.pointer, count: frameSize)
        }
        checks.append(tolerances.float("decoded", decoded, try fixtures.array(outputs["decoded"]).floats()))
        checks += try uint8Checks(decoded, outputs: outputs, fixtures: fixtures, tolerances: tolerances)
        checks += try observed.checks(tolerances: tolerances, fixtures: fixtures)
        return checks
    }
}

extension VAERunner {
    /// The configuration of a variant that is one weights file without config.json: inferred from
    /// its tensor shapes, as diffusers' single-file loader does (scaling_factor 0.18215), never taken
    /// from another variant. The one hyperparameter no tensor records, norm_num_groups, is the
    /// manifest's model config's when it gives one (else diffusers' default 32); with a manifest
    /// config, a check also compares the inferred architecture with it.
    func inferredConfig(_ weights: URL, variant: ManifestNode) throws(ConformanceError) -> (
        AutoencoderKLConfig, Check?
    ) {
        let node = fixtures.manifest.optional("config")
        let groups = try node?.optional("norm_num_groups")?.int ?? AutoencoderKLConfig.defaultNormNumGroups
        let config: AutoencoderKLConfig
        do { config = try AutoencoderKLConfig.inferred(weights: weights, normNumGroups: groups) } catch {
            throw .model("\(variant.path): \(error)")
        }
        guard let node else { return (config, nil) }
        let stated: AutoencoderKLConfig
        do { stated = try JSONDecoder().decode(AutoencoderKLConfig.self, from: jsonData(node.value)) } catch {
            throw .manifest("\(node.path) is not an AutoencoderKL config: \(error)")
        }
        let differing = [
            config.blockOutChannels == stated.blockOutChannels, config.layersPerBlock == stated.layersPerBlock,
            config.latentChannels == stated.latentChannels, config.outChannels == stated.outChannels,
            config.usePostQuantConv == stated.usePostQuantConv,
            config.midBlockAddAttention == stated.midBlockAddAttention,
        ].filter { !$0 }.count
        let check = Check(
            label: "architecture inferred from the weights equals the manifest's config",
            maxError: Double(differing), tolerance: 0)
        return (config, check)
    }
}

struct VAETemporalRunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions
    /// Case kinds of the manifest's case_kinds; all are "decode these calls and compare".
    static let kinds: Set<String> = ["single", "chunked", "t2v"]

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        guard Self.kinds.contains(kind) else {
            throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
        }
        let tolerances = try VAETolerances(fixtures.manifest, precision: options.precision)
        let engine = try options.engine()
        let model = try fixtures.manifest["model"]
        let folder = fixtures.file(try model["dir"].string)
        let decoder: TemporalVAEDecoder
        do {
            let config = try TemporalDecoderConfig.load(folder.appendingPathComponent("config.json"))
            decoder = try TemporalVAEDecoder(config: config, weights: weightsURL(model, folder: folder), engine: engine)
        } catch let e as ConformanceError { throw e } catch { throw .model("\(error)") }

        var checks: [Check] = []
        let applied = try c["scaling_factor_applied"].double
        checks.append(Check(label: "scaling factor", maxError: abs(decoder.scalingFactor - applied), tolerance: 0))
        let inputs = try c["inputs"], outputs = try c["outputs"]
        let latents = try fixtures.tensor(inputs["latents"])
        let z = try fixtures.tensor(inputs["z"])
        checks.append(
            tolerances.float("latents -> z", decoder.latentsToZ(latents), try fixtures.array(inputs["z"]).floats()))

        // The decode calls: ours for the case's chunk size (null: one call) against the manifest's.
        let frames = z.shape[0]
        var calls: [Range<Int>] = []
        for call in try c["decode_calls"].array {
            let range = try call["frames"].ints
            guard range.count == 2, range[0] < range[1], try call["num_frames"].int == range[1] - range[0] else {
                throw .manifest("\(call.path): frames must be [start, end) with num_frames = end - start")
            }
            calls.append(range[0]..<range[1])
        }
        let chunkSize = try c.optional("chunk_size")?.int ?? frames
        let plan = TemporalVAEDecoder.chunks(frames: frames, chunkSize: chunkSize)
        let mismatches = zip(plan, calls).filter { $0 != $1 }.count + abs(plan.count - calls.count)
        checks.append(
            Check(label: "decode calls for chunk size \(chunkSize)", maxError: Double(mismatches), tolerance: 0))

        var list: IntermediateList?
        if tolerances.checksIntermediates, let node = c.optional("intermediates") {
            list = try IntermediateList(node, fixtures: fixtures)
        }
        let observed = ObservedModules(list)
        var decoded = Tensor(zeros: try outputs["decoded"]["shape"].ints)
        let frameSize = decoded.count / max(frames, 1)
        let out = decoded.mutablePointer()
        var order: [Int] = []
        for call in calls {
            decoder.decodeCall(z: z, frames: call, observer: observed.observer) { f, frame in
                precondition(frame.count == frameSize, "frame \(f): \(frame.shape) does not fit \(decoded.shape)")
                (out + f * frameSize).update(from: frame.pointer, count: frameSize)
                order.append(f)
            }
        }
        checks.append(
            Check(label: "frames delivered in order", maxError: order == Array(0..<frames) ? 0 : 1, tolerance: 0))
        checks.append(tolerances.float("decoded", decoded, try fixtures.array(outputs["decoded"]).floats()))
        checks += try uint8Checks(decoded, outputs: outputs, fixtures: fixtures, tolerances: tolerances)
        checks += try observed.checks(tolerances: tolerances, fixtures: fixtures)
        return checks
    }
}

// MARK: - Shared pieces

/// The weights of a model variant: the first word of its "weights" entry, inside its folder.
func weightsURL(_ variant: ManifestNode, folder: URL) throws(ConformanceError) -> URL {
    guard let first = try variant["weights"].string.split(separator: " ").first else {
        throw .manifest("\(variant.path).weights is empty")
    }
    return folder.appendingPathComponent(String(first))
}

/// A manifest JSON value back to JSON bytes (to decode a config object).
func jsonData(_ value: JSONValue) throws -> Data {
    func plain(_ v: JSONValue) -> Any {
        switch v {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) as Any : d
        case .string(let s): return s
        case .array(let a): return a.map(plain)
        case .object(let o): return o.mapValues(plain)
        }
    }
    return try JSONSerialization.data(withJSONObject: plain(value))
}

/// The manifest's recommended tolerances for this precision.
struct VAETolerances {
    var atol: Double
    var rtol: Double
    var intermediateAtol: Double
    var intermediateRtol: Double
    var uint8MaxDiff: Double
    /// nil: no bound on how many values may differ (half-precision runs).
    var uint8Fraction: Double?
    /// False for half-precision runs: the manifest bounds no intermediates there.
    var checksIntermediates = true

    init(_ manifest: ManifestNode, precision: Precision) throws(ConformanceError) {
        let t = try manifest["tolerances_recommended"]
        let d = try t["decoded_float"], i = try t["intermediates_float"], u = try t["uint8"]
        atol = try d["atol"].double
        rtol = try d["rtol"].double
        intermediateAtol = try i["atol"].double
        intermediateRtol = try i["rtol"].double
        uint8MaxDiff = try u["max_abs_diff"].double
        uint8Fraction = try u["max_fraction_differing"].double
        if precision == .bf16 {
            guard let h = t.optional("bf16_implementation") ?? t.optional("half_precision_implementation") else {
                throw .manifest("\(t.path) gives no half-precision tolerances")
            }
            atol = try h["decoded_atol"].double
            rtol = 0
            intermediateAtol = atol
            intermediateRtol = 0
            uint8MaxDiff = try h["uint8_max_abs_diff"].double
            uint8Fraction = nil
            checksIntermediates = false
        }
    }

    /// |got − expected| ≤ atol + rtol·|expected| elementwise; reports the element closest to (or
    /// furthest past) its bound.
    func float(_ label: String, _ got: Tensor, _ expected: [Float], intermediate: Bool = false) -> Check {
        let (a, r) = intermediate ? (intermediateAtol, intermediateRtol) : (atol, rtol)
        guard got.count == expected.count else {
            return Check(
                label: "\(label): \(got.count) values, expected \(expected.count)", maxError: .infinity, tolerance: a)
        }
        var worst = (ratio: -1.0, error: 0.0, bound: a)
        got.withUnsafeBufferPointer { g in
            for k in 0..<g.count {
                let e = Double(expected[k]), d = abs(Double(g[k]) - e), bound = a + r * abs(e)
                let ratio = d.isNaN ? .infinity : d / bound
                if ratio > worst.ratio { worst = (ratio, d.isNaN ? .infinity : d, bound) }
            }
        }
        return Check(label: label, maxError: worst.error, tolerance: worst.bound)
    }
}

/// uint8 conversions of `decoded` against every frames_uint8_* output the case has.
func uint8Checks(
    _ decoded: Tensor, outputs: ManifestNode, fixtures: FixtureDirectory, tolerances: VAETolerances
) throws(ConformanceError) -> [Check] {
    var checks: [Check] = []
    for (key, rounding) in [("frames_uint8_round", FrameRounding.roundHalfUp), ("frames_uint8_trunc", .truncate)] {
        guard let node = outputs.optional(key) else { continue }
        guard let want = try fixtures.array(node).uint8s() else {
            throw .fixture(path: node.path, reason: "expected uint8 data")
        }
        let ours = FrameConversion.uint8Video(decoded, rounding: rounding)
        guard ours.count == want.count else {
            checks.append(Check(label: "\(key) size", maxError: .infinity, tolerance: 0))
            continue
        }
        var maxDiff = 0, differing = 0
        for k in 0..<want.count {
            let d = abs(Int(ours[k]) - Int(want[k]))
            maxDiff = max(maxDiff, d)
            if d != 0 { differing += 1 }
        }
        checks.append(
            Check(label: "\(key) max level difference", maxError: Double(maxDiff), tolerance: tolerances.uint8MaxDiff))
        if let fraction = tolerances.uint8Fraction {
            checks.append(
                Check(
                    label: "\(key) fraction differing", maxError: Double(differing) / Double(max(want.count, 1)),
                    tolerance: fraction))
        }
    }
    return checks
}

/// The intermediates a case lists: module name, expected array (n, C, h, w) for frames 0..<n.
struct IntermediateList {
    var entries: [(module: String, node: ManifestNode, shape: [Int])]
    init(_ node: ManifestNode, fixtures: FixtureDirectory) throws(ConformanceError) {
        entries = []
        for t in try node["tensors"].array {
            entries.append((try t["module"].string, t, try t["shape"].ints))
        }
    }
}

/// Collects module outputs from a decoder's observer and compares them with the intermediates.
final class ObservedModules {
    let list: IntermediateList?
    private var frames: [String: [Int: Tensor]] = [:]
    private let wanted: [String: Int]

    init(_ list: IntermediateList?) {
        self.list = list
        var wanted: [String: Int] = [:]
        for e in list?.entries ?? [] { wanted[e.module] = e.shape.first ?? 0 }
        self.wanted = wanted
    }

    /// nil when the case has no intermediates (the decoder then takes its fast path).
    var observer: VAEObserver? {
        guard list != nil else { return nil }
        return { [self] module, frame, output in
            guard let n = wanted[module], frame < n else { return }
            frames[module, default: [:]][frame] = output
        }
    }

    func checks(tolerances: VAETolerances, fixtures: FixtureDirectory) throws(ConformanceError) -> [Check] {
        guard let list else { return [] }
        var checks: [Check] = []
        for e in list.entries {
            let n = e.shape.first ?? 0
            let got = frames[e.module] ?? [:]
            guard (0..<n).allSatisfy({ got[$0] != nil }) else {
                checks.append(Check(label: "\(e.module) (not produced)", maxError: .infinity, tolerance: 0))
                continue
            }
            let values = (0..<n).flatMap { got[$0]?.scalars ?? [] }
            let expected = try fixtures.array(e.node).floats()
            checks.append(
                tolerances.float(e.module, Tensor(shape: [values.count], values: values), expected, intermediate: true))
        }
        return checks
    }
}
