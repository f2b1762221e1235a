// SlurmSlots: `executor.max_in_flight`, shared by the jobs a daemon has on Slurm. The worker takes one
// slot when it claims a job (so it never claims more jobs than slots); the job's tracker takes more,
// up to one per video, when it submits its array (`--array=...%K` with K the slots it holds), and gives
// them all back when the job ends.

import Foundation

final class SlurmSlots: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var used = 0

    init(limit: Int) { self.limit = max(1, limit) }

    /// Slots nobody holds.
    var free: Int { lock.withLock { limit - used } }

    /// Takes up to `count` free slots; returns how many it took (possibly 0).
    func take(upTo count: Int) -> Int {
        lock.withLock {
            let n = max(0, min(count, limit - used))
            used += n
            return n
        }
    }

    /// Gives back `count` slots.
    func give(_ count: Int) {
        lock.withLock { used = max(0, used - count) }
    }
}
