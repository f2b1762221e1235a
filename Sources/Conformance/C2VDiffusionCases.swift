// c2v cases that exercise the sampler arithmetic without the network: "schedule" (respaced
// timesteps and float64 coefficient arrays) and "diffusion_step" (single DDPM/DDIM iterations
// with a fixed model output).

import Checkpoints
import Diffusion
import Foundation
import TensorCore

enum C2VDiffusionCases {
    /// Coefficient rows of a "schedule" set, by the names the manifest uses.
    static func row(_ name: String, of d: RespacedDiffusion) throws(ConformanceError) -> [Double] {
        switch name {
        case "betas": return d.betas
        case "alphas_cumprod": return d.alphasCumprod
        case "alphas_cumprod_prev": return d.alphasCumprodPrev
        case "posterior_variance": return d.posteriorVariance
        case "posterior_log_variance_clipped": return d.posteriorLogVarianceClipped
        case "posterior_mean_coef1": return d.posteriorMeanCoef1
        case "posterior_mean_coef2": return d.posteriorMeanCoef2
        case "sqrt_recip_alphas_cumprod": return d.sqrtRecipAlphasCumprod
        case "sqrt_recipm1_alphas_cumprod": return d.sqrtRecipm1AlphasCumprod
        case "log_betas": return d.logBetas
        default: throw .manifest("unknown schedule row '\(name)'")
        }
    }

    /// The manifest gives no tolerance for float64 schedules: both sides are float64 computations
    /// of the same formulas, so we require agreement to a few ulps (relative 1e-13).
    static let scheduleRelativeTolerance = 1e-13

    static func schedule(_ c: ManifestNode, fixtures: FixtureDirectory) throws(ConformanceError) -> [Check] {
        var checks: [Check] = []
        let sets = try c["sets"]
        for key in sets.keys {
            let set = try sets[key]
            guard let n = Int(key) else { throw .manifest("\(set.path): set name is not a step count") }
            let d: RespacedDiffusion
            do { d = try RespacedDiffusion(steps: n) } catch { throw .model("\(error)") }
            let expectedMap = try set["timestep_map"].ints
            let mapErrors =
                zip(d.timestepMap, expectedMap).filter { $0 != $1 }.count
                + abs(d.timestepMap.count - expectedMap.count)
            checks.append(Check(label: "n=\(n) timestep_map", maxError: Double(mapErrors), tolerance: 0))
            let coefficientsFile = try set["coefficients_file"].string
            let table: NumPyArray
            do { table = try NumPy.read(fixtures.file(coefficientsFile)) } catch {
                throw .fixture(path: coefficientsFile, reason: "\(error)")
            }
            let values = table.doubles()
            let rows = try set["rows"].strings
            guard table.shape == [rows.count, n] else {
                throw .fixture(path: coefficientsFile, reason: "shape \(table.shape), expected [\(rows.count), \(n)]")
            }
            for (r, name) in rows.enumerated() {
                let ours = try row(name, of: d)
                var worst = 0.0
                var scale = 0.0
                for k in 0..<n {
                    let e = values[r * n + k]
                    worst = max(worst, abs(ours[k] - e))
                    scale = max(scale, abs(e))
                }
                checks.append(
                    Check(label: "n=\(n) \(name)", maxError: worst, tolerance: scheduleRelativeTolerance * scale))
            }
        }
        return checks
    }

    static func diffusionSteps(_ c: ManifestNode, fixtures: FixtureDirectory) throws(ConformanceError) -> [Check] {
        let inputs = try c["inputs"], expected = try c["expected"]
        let xs = try fixtures.array(inputs["x_t"]), outs = try fixtures.array(inputs["model_out"])
        let noises = try fixtures.array(inputs["noise"])
        let names = ["mean", "log_variance", "pred_xstart", "sample"]
        var wanted: [String: [Float]] = [:]
        for name in names { wanted[name] = try fixtures.array(expected[name]).floats() }
        let tol = try c["tolerance"]
        let atol = try tol["atol"].double
        // The manifest's note: rtol 2e-6 of max|expected| per entry, or atol, whichever is larger.
        let rtol = 2e-6
        var diffusions: [Int: RespacedDiffusion] = [:]
        // Entry e is a batch of one: (1, F, C, H, W).
        let xShape = [1] + xs.shape.dropFirst(), outShape = [1] + outs.shape.dropFirst()
        let xCount = xShape.reduce(1, *), outCount = outShape.reduce(1, *)
        let xAll = xs.floats(), outAll = outs.floats(), noiseAll = noises.floats()
        var checks: [Check] = []
        for entry in try c["entries"].array {
            let e = try entry["index"].int
            let n = try entry["num_sampling_steps"].int
            let k = try entry["respaced_index_k"].int
            guard let method = SamplerMethod(rawValue: try entry["method"].string) else {
                throw .manifest("\(entry.path).method: unknown sampler")
            }
            if diffusions[n] == nil {
                do { diffusions[n] = try RespacedDiffusion(steps: n) } catch { throw .model("\(error)") }
            }
            guard let d = diffusions[n] else { continue }
            let modelTimestep = try entry["model_timestep"].int
            checks.append(
                Check(
                    label: "entry \(e) model timestep", maxError: Double(abs(d.timestepMap[k] - modelTimestep)),
                    tolerance: 0))
            let x = Tensor(shape: xShape, values: Array(xAll[e * xCount..<(e + 1) * xCount]))
            let out = Tensor(shape: outShape, values: Array(outAll[e * outCount..<(e + 1) * outCount]))
            let noise = Tensor(shape: xShape, values: Array(noiseAll[e * xCount..<(e + 1) * xCount]))
            let r = Sampler(method: method, diffusion: d).step(x: x, modelOutput: out, k: k, noise: noise)
            let got: [String: Tensor] = [
                "mean": r.mean, "log_variance": r.logVariance, "pred_xstart": r.predXstart, "sample": r.sample,
            ]
            for name in names {
                guard let exp = wanted[name], let g = got[name] else { continue }
                let slice = Array(exp[e * xCount..<(e + 1) * xCount])
                let scale = slice.reduce(0) { max($0, Double(abs($1))) }
                checks.append(
                    Check(
                        label: "entry \(e) (\(method) n=\(n) k=\(k)) \(name)", maxError: maxAbsDifference(g, slice),
                        tolerance: max(atol, rtol * scale)))
            }
        }
        return checks
    }
}
