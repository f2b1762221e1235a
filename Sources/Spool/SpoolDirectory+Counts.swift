// How many jobs each spool state holds, cheaply (folder listings and leases; no result is read): the
// daemon's metrics read it at every state change.

import Foundation

extension SpoolDirectory {
    /// Jobs per state: queued (incoming files, and jobs in processing/ that no live process owns:
    /// released, abandoned, held or backing off), running (owned by a live process), done and failed.
    public func counts() throws -> (queued: Int, running: Int, done: Int, failed: Int) {
        let anyPriority: (URL) -> Int = { _ in 0 }
        let incoming = try incomingJobs(priority: anyPriority, readPriority: false, stableOnly: false).ready.count
        let entries = try processingEntries().filter { !$0.isClaim }
        let running = entries.filter { $0.state == .alive || $0.state == .ours }.count
        return (
            incoming + entries.count - running, running, try FileOps.list(done).count, try FileOps.list(failed).count
        )
    }
}
