// SpoolDirectory+Recovery: inspecting processing/ and taking over jobs whose owner released them or died.
//
// Takeover protocol (race-free among any number of recovering processes, also across hosts):
//   1. read the current lease lease.<g> (the highest generation) and judge it (LeaseJudge): released,
//      or dead (same host and boot: the pid is gone or was reused; another host: heartbeat older than
//      `staleAfter`; a host with a new boot id: dead);
//   2. publish lease.<g+1> with link(2). Exactly one process creates a given generation; everyone else
//      gets EEXIST and leaves the job alone. Generations only grow, so a stale observation can never
//      steal a newer lease: its link of <g+1> fails once anyone has taken <g+1>.
//   3. the winner owns the job directory. The directory is never renamed while it is in processing/
//      (except a half-finished claim directory, which only its dead owner knew), so a falsely-judged
//      owner still writes to the same place; it notices `lease.<g+1>` at its next heartbeat, checkpoint
//      or finish (`SpoolError.leaseLost`) and stops.
// The winner removes what its predecessors' interrupted writes left: the temp files
// (`.<name>.<pid>.<random>.tmp`) of the owners that did not release the job, and a half-made claim
// directory entirely. A claim directory that has no lease yet is judged by the claimer its name names
// (same host: dead once that pid is gone), not only by its age.
// After a takeover the job is settled: a result.yaml means the owner died while finishing (the move
// is completed); a cancel request fails it as "cancelled"; too many crashed attempts fail it; otherwise
// it is resumed from its checkpoint by the caller.

import Foundation

extension SpoolDirectory {
    /// What recovery needs to know about one entry of processing/.
    struct ProcessingEntry {
        var directory: URL
        var isClaim: Bool
        var generation: Int
        var lease: Lease?
        var state: LeaseState
        var hasJobFile: Bool
        var hasResult: Bool
        var hasCancel: Bool
        /// A `skipdit hold` marker is present.
        var hasHold: Bool
        /// The names in the directory.
        var names: [String]
        /// Lease generations that ended without a release (crash, kill -9, reboot); counted only
        /// when the job is available.
        var crashedAttempts: Int
    }

    /// Inspects processing/<name>; nil when it vanished or is not a job directory.
    func inspect(_ directory: URL) throws -> ProcessingEntry? {
        guard let info = FileOps.lstatInfo(directory), info.kind == .directory else { return nil }
        let names: [String]
        do {
            names = try FileOps.list(directory)
        } catch SpoolError.system(_, _, ENOENT) {
            return nil
        }
        func readLease(_ g: Int) -> Lease? {
            let url = directory.appendingPathComponent(SpoolLayout.leaseFile(g))
            return (try? FileOps.readFile(url)).flatMap { $0 }.flatMap { try? Lease.decode($0, path: url.path) }
        }
        let generations = names.compactMap(SpoolLayout.leaseGeneration)
        let generation = generations.max() ?? 0
        let lease = generation > 0 ? readLease(generation) : nil
        let state: LeaseState
        if let lease {
            state = judge.state(of: lease)
        } else if generation == 0, let claimer = localClaimer(of: directory),
            ProcessProbe.state(pid: claimer, startTime: 0) == .dead
        {
            // A claim directory without its lease yet: the claimer its name names died before publishing it.
            state = .dead(reason: "claimer pid \(claimer) on \(identity.host) is gone")
        } else {
            let file = directory.appendingPathComponent(SpoolLayout.leaseFile(generation))
            let modified = (generation > 0 ? FileOps.lstatInfo(file) : nil)?.modified ?? info.modified
            state = judge.state(ofUnreadableModifiedAt: modified)
        }
        var crashed = 0
        if state.isAvailable || state == .ours {  // the history matters only to a (new) owner
            // A retry's lease (`restart`) starts the count over.
            let earlier = generations.filter { $0 < generation }.map { ($0, readLease($0)) }
            let base =
                lease?.restart == true ? generation : earlier.filter { $0.1?.restart == true }.map(\.0).max() ?? 0
            for (g, old) in earlier where g > base && old?.released != true { crashed += 1 }
            if case .dead = state { crashed += 1 }
        }
        return ProcessingEntry(
            directory: directory, isClaim: directory.lastPathComponent.hasPrefix(SpoolLayout.claimPrefix),
            generation: generation, lease: lease, state: state, hasJobFile: names.contains(SpoolLayout.jobFile),
            hasResult: names.contains(SpoolLayout.resultFile), hasCancel: names.contains(SpoolLayout.cancelFile),
            hasHold: names.contains(SpoolLayout.holdFile), names: names, crashedAttempts: crashed)
    }

    /// All entries of processing/.
    func processingEntries() throws -> [ProcessingEntry] {
        try FileOps.list(processing).compactMap { name in
            try inspect(processing.appendingPathComponent(name, isDirectory: true))
        }
    }

    /// True when an available entry must be settled rather than queued for resumption.
    func needsSettling(_ entry: ProcessingEntry) -> Bool {
        entry.isClaim || !entry.hasJobFile || entry.hasResult || entry.hasCancel || exceedsAttempts(entry)
    }

    private func exceedsAttempts(_ entry: ProcessingEntry) -> Bool {
        configuration.maxAttempts > 0 && entry.crashedAttempts >= configuration.maxAttempts
    }

    /// Released or abandoned jobs that can be resumed, as queue entries. With `parked`, also the held
    /// ones and those in a transient-failure back-off (marked so; `status` lists them, claims do not).
    func resumableJobs(priority: (URL) -> Int, parked: Bool = false, now: Date = Date()) throws -> [QueuedJob] {
        try processingEntries().compactMap { entry in
            guard entry.state.isAvailable, !needsSettling(entry) else { return nil }
            let file = entry.directory.appendingPathComponent(SpoolLayout.jobFile)
            guard let info = FileOps.lstatInfo(file) else { return nil }
            let override =
                entry.names.contains(SpoolLayout.priorityFile) ? priorityOverride(in: entry.directory) : nil
            var job = QueuedJob(
                id: entry.directory.lastPathComponent, file: file, priority: override ?? priority(file),
                submitted: Date(timeIntervalSince1970: info.modified), location: .processing)
            job.priorityOverridden = override != nil
            job.held = entry.hasHold
            if entry.names.contains(SpoolLayout.backoffFile), let backoff = readBackoff(in: entry.directory) {
                job.transientFailures = backoff.failures
                job.lastTransientError = backoff.error
                if backoff.until > now { job.notBefore = backoff.until }
            }
            if !parked && (job.held || job.notBefore != nil) { return nil }
            return job
        }
    }

    /// Settles every processing/ entry whose owner is gone and that cannot simply be resumed:
    /// removes dead half-claims without a job file, completes dead claims and dead finishes, fails
    /// cancelled and crash-looping jobs. Safe to run from many processes at once. Returns how many
    /// entries it settled.
    @discardableResult
    public func recover() throws -> Int {
        var settled = 0
        for entry in try processingEntries() where entry.state.isAvailable && needsSettling(entry) {
            if case let .resume(job) = try takeOver(entry.directory) {
                // A completed claim with nothing else to do: give it back so it is queued in order.
                try release(job)
            }
            settled += 1
        }
        return settled
    }

    /// What a takeover ended with.
    enum Takeover {
        /// Another process won (or the entry vanished, or was an empty half-claim).
        case lost
        /// The job is ours to resume.
        case resume(ClaimedJob)
        /// The job was moved to done/ or failed/ (this directory).
        case finished(URL)
    }

    /// Takes over a released or dead job (protocol above) and settles it.
    func takeOver(_ directory: URL) throws -> Takeover {
        guard let job = try acquire(directory) else { return .lost }
        return try settle(job)
    }

    /// Steps 1–2 of the protocol, plus completing a claim directory; nil when lost.
    private func acquire(_ directory: URL) throws -> ClaimedJob? {
        guard let entry = try inspect(directory), entry.state.isAvailable else { return nil }
        let generation = entry.generation + 1
        let source = entry.lease?.source ?? SpoolLayout.jobFile
        let now = Date()
        let lease = Lease(owner: identity, generation: generation, source: source, claimed: now, heartbeat: now)
        let leaseURL = directory.appendingPathComponent(SpoolLayout.leaseFile(generation))
        do {
            guard try FileOps.publishExclusively(lease.encoded(), at: leaseURL) else { return nil }
        } catch SpoolError.system(_, _, ENOENT) {
            return nil  // the directory moved away (settled by another process)
        }
        if case let .dead(reason) = entry.state {
            logger.notice("took over \(directory.lastPathComponent) (lease \(generation)): \(reason)")
        } else {
            logger.info("resuming released job \(directory.lastPathComponent) (lease \(generation))")
        }
        var final = directory
        if entry.isClaim && !entry.hasJobFile {
            // The claimer died before it moved a job file in: only lease files are here, and perhaps the
            // temp file of a lease it was publishing when it died.
            for name in try FileOps.list(directory)
            where SpoolLayout.leaseGeneration(name) != nil || FileOps.tempFileWriter(name) != nil {
                try FileOps.remove(directory.appendingPathComponent(name))
            }
            try FileOps.removeEmptyDirectory(directory)
            return nil
        }
        // Temp files of writes that an earlier owner began but did not rename into place (killed
        // while writing its checkpoint, progress, lease or result): that owner is dead, or knows at its
        // next step that it lost the job, so nothing of it is still needed.
        // Also the temp file of a lease up to ours that another process began but never published (it
        // died before its link, or lost that generation): that generation is settled. A live loser's
        // link then fails with ENOENT, which its acquire takes as a lost race.
        let writers = formerWriters(in: directory, below: generation)
        var leftovers: [String] = []
        for name in try FileOps.list(directory) {
            guard let pid = FileOps.tempFileWriter(name) else { continue }
            let staleLease = Self.leaseTempGeneration(name).map { $0 <= generation } ?? false
            guard writers.contains(pid) || staleLease else { continue }
            try FileOps.remove(directory.appendingPathComponent(name))
            leftovers.append(name)
        }
        if !leftovers.isEmpty {
            logger.notice(
                "removed \(leftovers.count) partial file(s) of earlier owners from \(directory.lastPathComponent): \(leftovers.joined(separator: ", "))"
            )
        }
        if entry.isClaim {
            guard
                let moved = try moveToUniqueDirectory(
                    directory, in: processing, id: SpoolLayout.jobID(forFileName: source))
            else { return nil }
            final = moved
        }
        return ClaimedJob(id: final.lastPathComponent, directory: final, source: source, generation: generation)
    }

    /// The generation of a lease temp file `.lease.<g>.<pid>.<random>.tmp`, or nil for another name.
    static func leaseTempGeneration(_ name: String) -> Int? {
        guard FileOps.tempFileWriter(name) != nil, name.hasPrefix(".") else { return nil }
        let parts = name.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5 else { return nil }
        return SpoolLayout.leaseGeneration(String(parts[0] + "." + parts[1]))
    }

    /// The pid of the claimer a claim directory's name names, when it claimed on this host.
    private func localClaimer(of directory: URL) -> Int32? {
        guard let claimer = SpoolLayout.claimer(ofClaimDirectory: directory.lastPathComponent),
            claimer.host == SpoolLayout.jobID(forFileName: identity.host)
        else { return nil }
        return claimer.pid
    }

    /// The pids of the processes that held `directory` below lease `generation` and did not give it
    /// back: each was killed, crashed or was taken over (a released lease's owner stopped cleanly and may
    /// still run). Also the claimer of a claim directory. Files their interrupted writes left are garbage.
    func formerWriters(in directory: URL, below generation: Int) -> Set<Int32> {
        var pids: Set<Int32> = []
        if let claimer = localClaimer(of: directory) { pids.insert(claimer) }
        guard generation > 1 else { return pids }
        for g in 1..<generation {
            let url = directory.appendingPathComponent(SpoolLayout.leaseFile(g))
            guard let data = try? FileOps.readFile(url), let lease = try? Lease.decode(data, path: url.path),
                !lease.released
            else { continue }
            pids.insert(lease.owner.pid)
        }
        return pids
    }

    /// The pids of the processes that held `job` before this process and did not give it back (killed,
    /// crashed or taken over). A temp file named with one of them, next to one of the job's outputs, is
    /// the leftover of a write it did not finish.
    public func formerWriters(of job: ClaimedJob) -> Set<Int32> {
        formerWriters(in: job.directory, below: job.generation)
    }

    /// Finishes a just-acquired job that must not run (result present, cancelled, crash loop, no
    /// job file), or hands it back for resumption.
    private func settle(_ job: ClaimedJob) throws -> Takeover {
        guard let entry = try inspect(job.directory) else { return .lost }
        if entry.hasResult { return .finished(try completeFinish(job)) }
        if !entry.hasJobFile {
            let reason = "the job file is missing from \(job.directory.path)"
            return .finished(try finish(job, outcome: .failed(reason: reason)))
        }
        if entry.hasCancel { return .finished(try finish(job, outcome: .failed(reason: "cancelled"))) }
        if exceedsAttempts(entry) {
            let reason =
                "abandoned after \(entry.crashedAttempts) attempts ended without releasing the lease "
                + "(crash, kill -9 or reboot)"
            return .finished(try finish(job, outcome: .failed(reason: reason)))
        }
        return .resume(job)
    }
}
