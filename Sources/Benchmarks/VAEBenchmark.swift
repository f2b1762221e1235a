// `bench vae`: seconds per decoded frame of the full-size sd-vae-ft-ema decoder (random weights,
// spec vae-decoder.md §2) at 256x256 and 512x512, per backend and precision, with GFLOP/s from the
// analytic FLOP count (622 and 2,515 GFLOP per frame, spec §7). A clip mode decodes F frames in a
// stream, as a render does, and records the peak resident memory of the decode. The temporal mode
// does the same for the SVD temporal decoder (754 and 3,043 GFLOP per frame, in chunks of 14).

import Foundation
import TensorCore
import VAE

/// Measures the 2-D VAE decoder.
public struct VAEBenchmark {
    /// Output sizes (square, pixels); each must be a multiple of the upsampling factor.
    public var sizes: [Int] = [256, 512]
    /// (backend, precision) pairs, in order.
    public var configurations: [(Backend, Precision)] = [(.openblas, .fp32), (.onednn, .fp32), (.onednn, .bf16)]
    public var benchmark = Benchmark(warmup: 1, runs: 3)
    /// nil = all cores.
    public var threads: Int?
    /// 1: time single frames. More: time the streaming decode of a clip of this many frames (the
    /// result's seconds are per frame) and report its peak RSS.
    public var frames = 1
    public var config = AutoencoderKLConfig.sdVAEFtEMA
    /// Measure the temporal (SVD) decoder instead, decoding `frames` frames in chunks of 14.
    public var temporal = false
    public var temporalConfig = TemporalDecoderConfig.svd

    public init() {}

    /// FLOPs of decoding one frame with the temporal decoder (spec vae-temporal-decoder.md §11):
    /// the spatial network plus two (3,1,1) temporal convs per resnet and time_conv_out.
    public static func temporalFlops(config: TemporalDecoderConfig, latentHeight h: Int, latentWidth w: Int) -> Double {
        func conv(_ ci: Int, _ co: Int, _ k: Int, _ pixels: Int) -> Double {
            2 * Double(ci * co * k * k) * Double(pixels)
        }
        func resnet(_ ci: Int, _ co: Int, _ pixels: Int) -> Double {
            conv(ci, co, 3, pixels) + conv(co, co, 3, pixels) + (ci != co ? conv(ci, co, 1, pixels) : 0) + 2
                * conv(co, co * 3, 1, pixels)
        }
        let rev = Array(config.blockOutChannels.reversed()), top = rev[0], lpb = config.layersPerBlock
        var total = conv(config.latentChannels, top, 3, h * w) + resnet(top, top, h * w)
        if lpb >= 2 {
            let t = Double(h * w), c = Double(top)
            total += 8 * t * c * c + 4 * t * t * c + resnet(top, top, h * w)
        }
        var pixels = h * w
        for (i, co) in rev.enumerated() {
            for j in 0...lpb { total += resnet(j == 0 ? rev[max(i - 1, 0)] : co, co, pixels) }
            if i < rev.count - 1 {
                pixels *= 4
                total += conv(co, co, 3, pixels)
            }
        }
        let out = config.outChannels
        return total + conv(config.blockOutChannels[0], out, 3, pixels) + conv(out, out * 3, 1, pixels)
    }

    /// FLOPs (2 per multiply-add, as torch.utils.flop_counter counts) of decoding one frame from an
    /// h x w latent: convolutions, attention projections and the attention's two products.
    public static func flops(config: AutoencoderKLConfig, latentHeight h: Int, latentWidth w: Int) -> Double {
        func conv(_ ci: Int, _ co: Int, _ k: Int, _ pixels: Int) -> Double {
            2 * Double(ci * co * k * k) * Double(pixels)
        }
        let rev = Array(config.blockOutChannels.reversed()), lat = config.latentChannels, top = rev[0]
        var total = config.usePostQuantConv ? conv(lat, lat, 1, h * w) : 0
        total += conv(lat, top, 3, h * w) + 4 * conv(top, top, 3, h * w)
        if config.midBlockAddAttention {
            let t = Double(h * w), c = Double(top)
            total += 8 * t * c * c + 4 * t * t * c
        }
        var pixels = h * w
        for (i, co) in rev.enumerated() {
            for j in 0...config.layersPerBlock {
                let ci = j == 0 ? rev[max(i - 1, 0)] : co
                total += conv(ci, co, 3, pixels) + conv(co, co, 3, pixels) + (ci != co ? conv(ci, co, 1, pixels) : 0)
            }
            if i < rev.count - 1 {
                pixels *= 4
                total += conv(co, co, 3, pixels)
            }
        }
        return total + conv(config.blockOutChannels[0], config.outChannels, 3, pixels)
    }

    /// Runs every configuration at every size; runs of the configurations are interleaved.
    public func run(report: (BenchmarkResult) -> Void = { _ in }) throws(BenchmarkError) -> [BenchmarkResult] {
        let factor = temporal ? temporalConfig.upsamplingFactor : config.upsamplingFactor
        for s in sizes where s <= 0 || s % factor != 0 {
            throw .engine("size \(s) is not a positive multiple of the upsampling factor \(factor)")
        }
        /// Decodes z (F, C, h, w) in a stream, dropping the frames.
        var decoders: [((Tensor) -> Void, GEMMEngine, GEMMEngineInfo?)] = []
        for (backend, precision) in configurations {
            do {
                let e = try makeGEMMEngine(ComputeOptions(backend: backend, precision: precision, threads: threads))
                let decode: (Tensor) -> Void
                if temporal {
                    let d = try TemporalVAEDecoder.random(config: temporalConfig, engine: e, seed: 1)
                    decode = { z in d.decode(z: z) { _, _ in } }
                } else {
                    let d = try VAEDecoder.random(config: config, engine: e, seed: 1)
                    decode = { z in d.decode(z: z) { _, _ in } }
                }
                decoders.append((decode, e, (e as? GEMMEngineDescribing)?.info))
            } catch {
                throw .engine("\(error)")
            }
        }
        let latentChannels = temporal ? temporalConfig.latentChannels : config.latentChannels
        var results: [BenchmarkResult] = []
        for size in sizes {
            let lat = size / factor
            var z = Tensor(zeros: [frames, latentChannels, lat, lat])
            z.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(sin(Double(i) * 0.618)) * 4 } }
            var peaks = [Int](repeating: 0, count: decoders.count), baselines = peaks
            let timings = benchmark.measureInterleaved(count: decoders.count) { i in
                let before = MemoryUsage.resetPeak()
                decoders[i].0(z)
                peaks[i] = max(peaks[i], MemoryUsage.peakBytes - before)
                baselines[i] = before
            }
            let flops =
                temporal
                ? Self.temporalFlops(config: temporalConfig, latentHeight: lat, latentWidth: lat)
                : Self.flops(config: config, latentHeight: lat, latentWidth: lat)
            for ((_, engine, info), (i, timing)) in zip(decoders, timings.enumerated()) {
                let perFrame = Timing(samples: timing.samples.map { $0 / Double(frames) })
                var notes = info?.notes ?? []
                notes.append(
                    String(
                        format:
                            "%@ %@ %dx%d, %d frame(s) per run: peak RSS above the loaded decoder %.0f MiB (RSS before %.0f MiB)",
                        engine.backend.rawValue, engine.precision.rawValue, size, size, frames,
                        Double(peaks[i]) / 1_048_576, Double(baselines[i]) / 1_048_576))
                let r = BenchmarkResult(
                    name: (temporal ? "vae-temporal" : "vae") + (frames > 1 ? "-clip" : ""),
                    backend: engine.backend.rawValue, precision: engine.precision.rawValue,
                    shape: "\(size)x\(size)" + (frames > 1 ? " x\(frames)" : ""), timing: perFrame, flops: flops,
                    threads: info?.threads ?? Parallel.threadCount, library: info?.library, notes: notes)
                results.append(r)
                report(r)
            }
        }
        return results
    }
}

/// Resident memory of this process (Linux /proc).
public enum MemoryUsage {
    /// Current RSS in bytes; resets the peak (VmHWM) to it, where the kernel allows.
    @discardableResult
    public static func resetPeak() -> Int {
        if let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            h.write(Data("5".utf8))
            try? h.close()
        }
        return field("VmRSS")
    }

    /// Peak RSS (VmHWM) in bytes since the start or the last `resetPeak`.
    public static var peakBytes: Int { field("VmHWM") }

    /// Current RSS in bytes.
    public static var currentBytes: Int { field("VmRSS") }

    private static func field(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
