// A small benchmark harness: warm-up runs, then N timed runs; best and median seconds. The machine
// is shared, so the best run approximates the quiet-machine figure and the median shows the noise.

import Foundation

/// Wall-clock timings of several runs of one measurement.
public struct Timing: Sendable, Equatable {
    /// Seconds of each timed run, in run order.
    public let samples: [Double]

    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "a timing needs at least one run")
        self.samples = samples
    }

    /// The fastest run.
    public var best: Double { samples.min() ?? .nan }
    /// The median run (mean of the middle two for an even count).
    public var median: Double {
        let s = samples.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// Runs a body `warmup` times untimed, then `runs` times timed.
public struct Benchmark: Sendable {
    public var warmup: Int
    public var runs: Int

    public init(warmup: Int = 1, runs: Int = 5) {
        precondition(warmup >= 0 && runs >= 1, "need warmup >= 0 and runs >= 1")
        self.warmup = warmup
        self.runs = runs
    }

    /// Times `body`.
    public func measure(_ body: () throws -> Void) rethrows -> Timing {
        try measureInterleaved(count: 1) { _ in try body() }[0]
    }

    /// Times `count` bodies, `body(i)` for i in 0..<count, round-robin (run 1 of each, then run 2
    /// of each, …) so that a noisy spell on a shared machine hits all of them alike. One timing per i.
    public func measureInterleaved(count: Int, _ body: (Int) throws -> Void) rethrows -> [Timing] {
        for _ in 0..<warmup { for i in 0..<count { try body(i) } }
        var samples = [[Double]](repeating: [], count: count)
        for _ in 0..<runs {
            for i in 0..<count {
                let start = DispatchTime.now().uptimeNanoseconds
                try body(i)
                samples[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
        }
        return samples.map { Timing(samples: $0) }
    }
}

/// Facts about the machine for benchmark records.
public enum MachineInfo {
    /// The CPU model from /proc/cpuinfo, e.g. "AMD EPYC".
    public static let cpu: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }()
}

/// n values in [-1, 1) from a 64-bit LCG: benchmark operands, the same in every run.
func randomValues(_ n: Int, _ state: inout UInt64) -> [Float] {
    var out = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        out[i] = Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
    return out
}
