// Parallel loops over all cores (Dispatch's concurrentPerform), with a settable thread count.

import Dispatch
import Foundation

public enum Parallel {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var _threads = ProcessInfo.processInfo.activeProcessorCount

    /// Worker count used by `forRange`; defaults to the number of active cores.
    public static var threadCount: Int {
        get { lock.lock(); defer { lock.unlock() }; return _threads }
        set { lock.lock(); _threads = max(1, newValue); lock.unlock() }
    }

    /// Splits 0..<count into contiguous chunks of at least `grain` items and runs `body` on each,
    /// concurrently. `body` must only write disjoint memory for disjoint ranges.
    public static func forRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let threads = threadCount
        let chunks = min(threads, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        // A few more chunks than threads evens out uneven work.
        let pieces = min(count, chunks == threads ? chunks * 4 : chunks)
        DispatchQueue.concurrentPerform(iterations: pieces) { i in
            let lo = count * i / pieces
            let hi = count * (i + 1) / pieces
            if lo < hi { body(lo..<hi) }
        }
    }
}
