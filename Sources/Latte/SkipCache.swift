// Skip-Cache (official Latte_skip_cache / LatteT2V_skip_cache): the schedule that decides which
// sampler steps run the whole network ("full") and which reuse the stream cached at the input of
// the last block pair ("cached"), and the per-render state it needs. The state is a value owned
// by the caller (one per render), never by the model, so jobs cannot leak into each other.
//
// Two policies decide inside the reference's timestep window:
// - fixed (the reference): a full step every `interval` calls;
// - adaptive (skipdit's addition, not in the reference): each call first runs the outer block pairs,
//   as every step does, and compares their output — the stream entering the first skippable pair —
//   with the same stream at the last full step. The relative L1 change d, divided by the change d1
//   measured at the first call after that full step, estimates the cached stream's staleness in
//   steps (d ≈ d1·s for a steady drift, faster when the video changes faster). The error of caching
//   this call is estimated as w(t)·(d/d1)²: staleness costs quadratically, and w(t) is how much an
//   error at timestep t still shows in the video, (σ_t/α_t ÷ σ_500/α_500)^0.6 with σ/α =
//   sqrt((1 − ᾱ_t)/ᾱ_t). The exponent was chosen on the demo model, where caching one step at
//   t ≈ 880 costs about 10 dB more PSNR than at t ≈ 300 (README, "Adaptive Skip-Cache"), although the
//   outer pairs' output changes less there. The call runs full when the estimate
//   exceeds `threshold` or `maxCached` cached calls ran in a row. One decision covers the whole batch
//   (both halves of classifier-free guidance); the signal is a by-product of work a cached step does
//   anyway.

import Foundation
import TensorCore

/// Full or cached forward.
public enum StepMode: String, Sendable, Equatable, Codable {
    case full
    case cached
}

/// The adaptive policy's parameters.
public struct AdaptiveCachePolicy: Sendable, Equatable, Codable {
    /// A call runs full when its estimated error w(t)·(d/d1)² exceeds this.
    public var threshold: Double
    /// At most this many cached calls in a row.
    public var maxCached: Int
    /// w(t) for each training timestep t (from the sampler's ᾱ).
    public var timestepWeights: [Double]

    /// The exponent of w(t) = (σ_t/α_t ÷ σ_500/α_500)^exponent.
    public static let sensitivityExponent = 0.6

    /// alphasCumprod: ᾱ of every training timestep (1000 for the released models).
    public init(threshold: Double, maxCached: Int, alphasCumprod: [Double]) {
        precondition(threshold >= 0 && threshold.isFinite, "adaptive Skip-Cache threshold must be >= 0")
        precondition(maxCached >= 1, "adaptive Skip-Cache maxCached must be >= 1")
        precondition(!alphasCumprod.isEmpty, "adaptive Skip-Cache needs the noise schedule")
        self.threshold = threshold
        self.maxCached = maxCached
        let ratio = alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
        let middle = ratio[min(ratio.count - 1, 500)]
        timestepWeights = ratio.map { pow($0 / middle, Self.sensitivityExponent) }
    }

    /// w(t), clamped to the table.
    public func weight(at t: Int) -> Double { timestepWeights[min(max(t, 0), timestepWeights.count - 1)] }
}

/// What a forward does, decided before it starts: full, cached, or (adaptive) decided after the
/// outer block pairs ran.
public enum StepPlan: Sendable, Equatable {
    case full
    case cached
    case decideAfterOuterPairs
}

/// The schedule: a full step every `interval` calls (or as the adaptive policy decides), always
/// full at t >= `start`, and a reset after the first step at (or below) `stop`. Values are in
/// original timestep units.
public struct SkipCacheSchedule: Sendable, Equatable, Codable {
    /// How the stop threshold compares: class-to-video resets after t < stop, text-to-video after t <= stop.
    public enum StopRule: String, Sendable, Equatable, Codable {
        case below
        case atOrBelow
    }

    /// N: a full step when the call counter is a multiple of N.
    public var interval: Int
    /// Every step with t >= start is full (class-to-video: 900; text-to-video "N2-700-50": 700).
    public var start: Int
    /// After the first step past this threshold the counter and cache are reset (50).
    public var stop: Int
    public var stopRule: StopRule
    /// Block pairs kept at each end on cached steps (skip_at_branch; 1 in every released setting).
    public var branch: Int
    /// The adaptive policy; nil: the fixed interval (the reference).
    public var adaptive: AdaptiveCachePolicy?

    public init(
        interval: Int, start: Int, stop: Int, stopRule: StopRule, branch: Int = 1, adaptive: AdaptiveCachePolicy? = nil
    ) {
        precondition(interval >= 1, "Skip-Cache interval must be >= 1")
        precondition(branch >= 1, "Skip-Cache branch must be >= 1")
        self.interval = interval
        self.start = start
        self.stop = stop
        self.stopRule = stopRule
        self.branch = branch
        self.adaptive = adaptive
    }

    /// The class-to-video reference (Latte-skip-cache-N): start 900, reset after t < 50, branch 1.
    public static func classToVideo(interval: Int) -> SkipCacheSchedule {
        SkipCacheSchedule(interval: interval, start: 900, stop: 50, stopRule: .below)
    }

    /// The text-to-video reference form "N<interval>-<start>-<stop>", reset after t <= stop.
    public static func textToVideo(interval: Int, start: Int = 700, stop: Int = 50) -> SkipCacheSchedule {
        SkipCacheSchedule(interval: interval, start: start, stop: stop, stopRule: .atOrBelow)
    }

    /// The official text-to-video flag "N<interval>-<start>-<stop>" (e.g. "N2-700-50"), or nil.
    public init?(textToVideoFlag flag: String) {
        let parts = flag.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("N"), let interval = Int(parts[0].dropFirst()), interval >= 1,
            let start = Int(parts[1]), let stop = Int(parts[2])
        else { return nil }
        self = .textToVideo(interval: interval, start: start, stop: stop)
    }

    func resets(after t: Int) -> Bool {
        switch stopRule {
        case .below: return t < stop
        case .atOrBelow: return t <= stop
        }
    }
}

/// The per-render Skip-Cache state: the call counter, the cached stream and (adaptive) the outer
/// pairs' output at the last full step.
public struct SkipCacheState: Sendable {
    public let schedule: SkipCacheSchedule
    /// cache_cont: calls since the last reset.
    public private(set) var counter: Int = 0
    /// cache_val: the stream entering the last kept block pair at the last full step
    /// (layout (rows, T, D) of that call's batch), or nil.
    public internal(set) var cachedStream: Tensor?
    /// Adaptive only: the stream entering the first skippable pair at the last full step (same
    /// layout), the signal's reference; nil until a full step stored it.
    public internal(set) var reference: Tensor?
    /// Cached steps since the last full step, and the relative change d1 measured at the first
    /// call after it (adaptive: the unit of staleness).
    public private(set) var cachedRun: Int = 0
    public private(set) var runStartChange: Double = 0
    /// The mode the last call ran.
    public private(set) var lastMode: StepMode?

    public init(schedule: SkipCacheSchedule) { self.schedule = schedule }

    /// Restores a saved state (a render resuming from its checkpoint).
    public init(
        schedule: SkipCacheSchedule, counter: Int, cachedStream: Tensor?, reference: Tensor? = nil, cachedRun: Int = 0,
        runStartChange: Double = 0
    ) {
        self.schedule = schedule
        self.counter = counter
        self.cachedStream = cachedStream
        self.reference = reference
        self.cachedRun = cachedRun
        self.runStartChange = runStartChange
    }

    /// What the next call at timestep t will do.
    public func plan(at t: Int) -> StepPlan {
        if cachedStream == nil || t >= schedule.start { return .full }
        guard let adaptive = schedule.adaptive else { return counter % schedule.interval == 0 ? .full : .cached }
        if reference == nil || cachedRun >= adaptive.maxCached { return .full }
        return .decideAfterOuterPairs
    }

    /// The fixed schedule's mode of the next call at timestep t (an adaptive state decides inside
    /// the forward: `plan(at:)`, then `lastMode`).
    public func mode(at t: Int) -> StepMode {
        precondition(schedule.adaptive == nil, "an adaptive Skip-Cache decides within the forward")
        return plan(at: t) == .cached ? .cached : .full
    }

    /// Called by a forward once the outer pairs ran, with their output `stream` (the stream entering
    /// the first skippable pair) and the call's `plan`: returns the call's mode. An adaptive state
    /// decides here when the plan says so, and a full call stores `stream` as its reference.
    public mutating func outerPairsRan(output stream: Tensor, plan: StepPlan, timestep t: Int) -> StepMode {
        var mode: StepMode = plan == .cached ? .cached : .full
        guard schedule.adaptive != nil else { return mode }
        if plan == .decideAfterOuterPairs { mode = decide(outerOutput: stream, timestep: t) }
        if mode == .full { reference = stream.copy() }
        return mode
    }

    /// Adaptive: decides the call at timestep t from the outer pairs' output `stream` (the layout of
    /// `reference`): full when the estimated error w(t)·(d/d1)² exceeds the threshold (see the top
    /// of this file). Summed in a fixed order in Float64, so the decision does not depend on the
    /// thread count.
    public mutating func decide(outerOutput stream: Tensor, timestep t: Int) -> StepMode {
        guard let adaptive = schedule.adaptive, let reference else { return .full }
        precondition(
            reference.shape == stream.shape, "Skip-Cache reference \(reference.shape) does not match \(stream.shape)")
        var change = 0.0, size = 0.0
        withExtendedLifetime((stream, reference)) {
            let a = stream.pointer, r = reference.pointer
            for i in 0..<stream.count {
                change += Double(abs(a[i] - r[i]))
                size += Double(abs(r[i]))
            }
        }
        let d = size > 0 ? change / size : (change > 0 ? .infinity : 0)
        if cachedRun == 0 { runStartChange = d }
        let staleness = runStartChange > 0 ? d / runStartChange : (d > 0 ? .infinity : 1)
        return adaptive.weight(at: t) * staleness * staleness > adaptive.threshold ? .full : .cached
    }

    /// Bookkeeping after a call at timestep t that ran `mode` (counter, run length, then the reset rule).
    public mutating func advance(after t: Int, ran mode: StepMode) {
        counter += 1
        lastMode = mode
        cachedRun = mode == .cached ? cachedRun + 1 : 0
        if schedule.resets(after: t) {
            counter = 0
            cachedRun = 0
            runStartChange = 0
            cachedStream = nil
            reference = nil
        }
    }

    /// The full/cached pattern a fixed schedule produces for a timestep sequence (no network involved).
    public static func pattern(_ schedule: SkipCacheSchedule, timesteps: [Int]) -> [StepMode] {
        var s = SkipCacheState(schedule: schedule)
        var placeholder = Tensor(zeros: [1])
        return timesteps.map { t in
            let m = s.mode(at: t)
            if m == .full {
                placeholder = Tensor(zeros: [1])
                s.cachedStream = placeholder
            }
            s.advance(after: t, ran: m)
            return m
        }
    }
}
