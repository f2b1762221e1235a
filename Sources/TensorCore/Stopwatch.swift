// Monotonic seconds around a piece of work, added to an accumulator: how the render pipeline and
// the samplers split a render's time into phases (`skipdit bench render`).

import Dispatch

public enum Stopwatch {
    /// Seconds on the monotonic clock since an arbitrary origin.
    @inline(__always)
    public static var now: Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// Runs `body`, adding its seconds to `seconds`.
    @inline(__always)
    public static func time<T>(_ seconds: inout Double, _ body: () throws -> T) rethrows -> T {
        let start = now
        defer { seconds += now - start }
        return try body()
    }
}
