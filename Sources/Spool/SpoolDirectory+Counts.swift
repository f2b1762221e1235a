// How many jobs each spool state holds, cheaply (folder listings and leases; no result is read): the
// daemon's metrics read it at every state change.

import Foundation

extension SpoolDirectory {
    /// Jobs per state: queued (incoming files and released or abandoned jobs that will resume), running
    /// (owned by a live process), done and failed.
    public func counts() throws -> (queued: Int, running: Int, done: Int, failed: Int) {
        let anyPriority: (URL) -> Int = { _ in 0 }
        let incoming = try incomingJobs(priority: anyPriority, stableOnly: false).ready.count
        let resumable = try resumableJobs(priority: anyPriority).count
        let processing = try processingEntries().filter { !$0.isClaim }.count
        return (
            incoming + resumable, max(0, processing - resumable), try FileOps.list(done).count,
            try FileOps.list(failed).count
        )
    }
}
