// Skip-Cache (official Latte_skip_cache / LatteT2V_skip_cache): the schedule that decides which
// sampler steps run the whole network ("full") and which reuse the stream cached at the input of
// the last block pair ("cached"), and the per-render state it needs. The state is a value owned
// by the caller (one per render), never by the model, so jobs cannot leak into each other.

import TensorCore

/// Full or cached forward.
public enum StepMode: String, Sendable, Equatable, Codable {
    case full
    case cached
}

/// The schedule: a full step every `interval` calls, always full at t >= `start`, and a reset
/// after the first step at (or below) `stop`. Values are in original timestep units.
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

    public init(interval: Int, start: Int, stop: Int, stopRule: StopRule, branch: Int = 1) {
        precondition(interval >= 1, "Skip-Cache interval must be >= 1")
        precondition(branch >= 1, "Skip-Cache branch must be >= 1")
        self.interval = interval
        self.start = start
        self.stop = stop
        self.stopRule = stopRule
        self.branch = branch
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

/// The per-render Skip-Cache state: the call counter and the cached stream.
public struct SkipCacheState: Sendable {
    public let schedule: SkipCacheSchedule
    /// cache_cont: calls since the last reset.
    public private(set) var counter: Int = 0
    /// cache_val: the stream entering the last kept block pair at the last full step
    /// (layout (rows, T, D) of that call's batch), or nil.
    public internal(set) var cachedStream: Tensor?

    public init(schedule: SkipCacheSchedule) { self.schedule = schedule }

    /// Restores a saved state (a render resuming from its checkpoint).
    public init(schedule: SkipCacheSchedule, counter: Int, cachedStream: Tensor?) {
        self.schedule = schedule
        self.counter = counter
        self.cachedStream = cachedStream
    }

    /// What the next call at timestep t will be.
    public func mode(at t: Int) -> StepMode {
        if counter % schedule.interval == 0 || cachedStream == nil || t >= schedule.start { return .full }
        return .cached
    }

    /// Bookkeeping after a call at timestep t (counter, then the reset rule).
    public mutating func advance(after t: Int) {
        counter += 1
        if schedule.resets(after: t) {
            counter = 0
            cachedStream = nil
        }
    }

    /// The full/cached pattern a schedule produces for a timestep sequence (no network involved).
    public static func pattern(_ schedule: SkipCacheSchedule, timesteps: [Int]) -> [StepMode] {
        var s = SkipCacheState(schedule: schedule)
        var placeholder = Tensor(zeros: [1])
        return timesteps.map { t in
            let m = s.mode(at: t)
            if m == .full {
                placeholder = Tensor(zeros: [1])
                s.cachedStream = placeholder
            }
            s.advance(after: t)
            return m
        }
    }
}
