// Timestep respacing exactly as the official respace.py space_timesteps(num_timesteps, "n") does it
// for a single section: stride = (size-1)/(n-1) accumulated in float64, each kept index rounded
// with Python's round() (half to even). Exact rational rounding differs for 283 values of n.

/// Errors in a requested sampling schedule.
public enum ScheduleError: Error, CustomStringConvertible, Equatable {
    case invalidStepCount(requested: Int, available: Int)

    public var description: String {
        switch self {
        case .invalidStepCount(let n, let available):
            return "cannot use \(n) sampling steps with a \(available)-step diffusion; hint: choose 1...\(available)"
        }
    }
}

public enum Respacing {
    /// The kept original timesteps, ascending (official `sorted(space_timesteps(T, str(n)))`).
    public static func timesteps(count n: Int, outOf total: Int = 1000) throws(ScheduleError) -> [Int] {
        guard n >= 1, n <= total else { throw .invalidStepCount(requested: n, available: total) }
        let stride = n <= 1 ? 1.0 : Double(total - 1) / Double(n - 1)
        var current = 0.0
        var kept = Set<Int>()
        for _ in 0..<n {
            kept.insert(Int(current.rounded(.toNearestOrEven)))
            current += stride
        }
        return kept.sorted()
    }
}
