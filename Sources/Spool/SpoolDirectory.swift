// SpoolDirectory: the spool state machine incoming/ → processing/ → done/ | failed/ (layout in
// SpoolLayout.swift). This file: opening, scanning incoming/, ordering, and claiming.
//
// Claim protocol (exactly one of several processes, on one host or many, wins a file):
//   1. mkdir processing/.claim.<host>.<pid>.<n>/ and publish lease.1 in it (link(2): complete or absent);
//   2. rename(2) incoming/<name> → that directory's job.yaml. The rename is the decision: losers get
//      ENOENT, remove their private directory, and try the next candidate;
//   3. rename the claim directory to processing/<id> (never replacing; a clash takes <id>-2, <id>-3…).
// A crash between any two steps leaves a directory whose lease names a dead owner; recovery (see
// SpoolDirectory+Recovery.swift) removes it when it holds no job file, and finishes the claim otherwise.

import Foundation
import Logging

/// A spool directory shared by any number of daemons (and the `status`/`cancel` commands).
public final class SpoolDirectory: @unchecked Sendable {
    /// The spool root.
    public let root: URL
    /// The timing knobs.
    public let configuration: SpoolConfiguration
    /// The process this instance acts as (lease owner).
    public let identity: ProcessIdentity
    let logger: Logger

    /// <root>/incoming
    public var incoming: URL { root.appendingPathComponent(SpoolLayout.incoming, isDirectory: true) }
    /// <root>/processing
    public var processing: URL { root.appendingPathComponent(SpoolLayout.processing, isDirectory: true) }
    /// <root>/done
    public var done: URL { root.appendingPathComponent(SpoolLayout.done, isDirectory: true) }
    /// <root>/failed
    public var failed: URL { root.appendingPathComponent(SpoolLayout.failed, isDirectory: true) }

    private struct Observation {
        var info: FileInfo
        var since: TimeInterval
    }

    private let lock = NSLock()
    private var observations: [String: Observation] = [:]
    private var priorities: [String: (FileInfo, Int)] = [:]
    private var reportedUnknown: Set<String> = []
    private var claimCounter = 0

    /// Opens (and creates) the spool at `root` with its four subdirectories.
    public init(
        root: URL, configuration: SpoolConfiguration = SpoolConfiguration(),
        identity: ProcessIdentity = .current(), logger: Logger = Logger(label: "skipdit.spool")
    ) throws {
        self.root = root.standardizedFileURL
        self.configuration = configuration
        self.identity = identity
        self.logger = logger
        for dir in [incoming, processing, done, failed] { try FileOps.makeDirectory(dir) }
    }

    var judge: LeaseJudge { LeaseJudge(me: identity, staleAfter: configuration.staleAfter) }

    // MARK: scanning

    /// The job files in incoming/ with their stability, in claim order (stable or not).
    /// `stableOnly` uses and updates this instance's size/mtime observations. Without `priority` every
    /// job is listed at priority 0, the files unread (and the priority cache untouched).
    func incomingJobs(priority: (URL) -> Int = { _ in 0 }, readPriority: Bool = true, stableOnly: Bool) throws -> (
        ready: [QueuedJob], waiting: [URL]
    ) {
        let now = ProcessInfo.processInfo.systemUptime
        var ready: [QueuedJob] = []
        var waiting: [URL] = []
        var seen: Set<String> = []
        for name in try FileOps.list(incoming) {
            let url = incoming.appendingPathComponent(name)
            switch SpoolLayout.kind(ofIncoming: name) {
            case .ignored: continue
            case .unknown:
                reportUnknownOnce(name)
                continue
            case .job: break
            }
            guard let info = FileOps.lstatInfo(url) else { continue }  // just claimed by someone
            guard info.kind == .regular else {
                reportUnknownOnce(name)
                continue
            }
            seen.insert(name)
            if stableOnly && !isStable(name, info: info, now: now) {
                waiting.append(url)
                continue
            }
            ready.append(
                QueuedJob(
                    id: SpoolLayout.jobID(forFileName: name), file: url,
                    priority: readPriority ? cachedPriority(url, info, priority) : 0,
                    submitted: Date(timeIntervalSince1970: info.modified), location: .incoming))
        }
        if stableOnly { forgetObservations(except: seen) }
        return (ready, waiting)
    }

    private func isStable(_ name: String, info: FileInfo, now: TimeInterval) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let previous = observations[name], previous.info == info {
            return now - previous.since >= configuration.stabilityInterval
        }
        observations[name] = Observation(info: info, since: now)
        return configuration.stabilityInterval <= 0
    }

    private func forgetObservations(except names: Set<String>) {
        lock.lock()
        defer { lock.unlock() }
        observations = observations.filter { names.contains($0.key) }
        let prefix = incoming.path + "/"
        priorities = priorities.filter { names.contains(String($0.key.dropFirst(prefix.count))) }
    }

    private func cachedPriority(_ url: URL, _ info: FileInfo, _ priority: (URL) -> Int) -> Int {
        lock.lock()
        if let (cachedInfo, value) = priorities[url.path], cachedInfo == info {
            lock.unlock()
            return value
        }
        lock.unlock()
        let value = priority(url)
        lock.lock()
        priorities[url.path] = (info, value)
        lock.unlock()
        return value
    }

    private func reportUnknownOnce(_ name: String) {
        lock.lock()
        let first = reportedUnknown.insert(name).inserted
        lock.unlock()
        if first {
            logger.notice(
                "ignoring \(incoming.appendingPathComponent(name).path): not a job file (jobs are *.yaml or *.yml regular files)"
            )
        }
    }

    /// Claim order: higher priority first, then older, then by name.
    static func claimOrder(_ a: QueuedJob, _ b: QueuedJob) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        if a.submitted != b.submitted { return a.submitted < b.submitted }
        return a.file.path < b.file.path
    }

    /// The jobs that can be claimed now, in claim order: stable incoming files and released or
    /// abandoned jobs in processing/ that are not held, not backing off after a transient failure and
    /// not waiting for a dependency (`after` reads a job file's `after:` list). Files still being
    /// written are listed in `waiting`.
    public func queue(priority: (URL) -> Int, after: (URL) -> [String] = { _ in [] }) throws -> (
        ready: [QueuedJob], waiting: [URL]
    ) {
        var (ready, waiting) = try incomingJobs(priority: priority, stableOnly: true)
        ready += try resumableJobs(priority: priority)
        ready = try annotateDependencies(ready, reading: after).filter { $0.waitingFor.isEmpty }
        ready.sort(by: Self.claimOrder)
        return (ready, waiting)
    }

    /// Claims the first job in claim order that no other process claims first; nil when none is ready
    /// or the spool is held (`skipdit hold --all`). Recovers abandoned processing/ entries on the way
    /// (see `recover()`).
    public func claimNext(priority: (URL) -> Int, after: (URL) -> [String] = { _ in [] }) throws -> ClaimedJob? {
        try recover()
        if spoolHold() != nil { return nil }
        for candidate in try queue(priority: priority, after: after).ready {
            if let job = try claim(candidate) { return job }
        }
        return nil
    }

    /// Claims one queued job; nil when another process got it first.
    public func claim(_ candidate: QueuedJob) throws -> ClaimedJob? {
        switch candidate.location {
        case .incoming: return try claimIncoming(candidate.file)
        case .processing:
            if case let .resume(job) = try takeOver(candidate.file.deletingLastPathComponent()) { return job }
            return nil
        }
    }

    // MARK: claiming an incoming file

    /// Claims incoming/<name> (steps 1–3 above); nil when another process renamed it first.
    func claimIncoming(_ file: URL) throws -> ClaimedJob? {
        let source = file.lastPathComponent
        let staging = try makeClaimDirectory()
        let now = Date()
        let lease = Lease(owner: identity, generation: 1, source: source, claimed: now, heartbeat: now)
        let leaseURL = staging.appendingPathComponent(SpoolLayout.leaseFile(1))
        let jobURL = staging.appendingPathComponent(SpoolLayout.jobFile)
        // Until the job file is inside, the claim directory is ours alone: on any failure (a full
        // spool, a write error) take it away again, so a failed claim leaves nothing behind.
        func abandonClaim() {
            try? FileOps.remove(leaseURL)
            try? FileOps.removeEmptyDirectory(staging)
        }
        let renamed: RenameOutcome
        do {
            guard try FileOps.publishExclusively(lease.encoded(), at: leaseURL) else {
                throw SpoolError.system(operation: "create lease", path: leaseURL.path, errno: EEXIST)
            }
            renamed = try FileOps.renameNoReplace(file, to: jobURL)
        } catch {
            abandonClaim()
            throw error
        }
        switch renamed {
        case .renamed: break
        case .sourceMissing, .destinationExists:
            abandonClaim()
            return nil
        }
        guard let final = try moveToUniqueDirectory(staging, in: processing, id: SpoolLayout.jobID(forFileName: source))
        else {
            logger.warning("claim of \(source) in \(staging.path) was taken over before it completed")
            return nil
        }
        logger.info("claimed \(source) as \(final.lastPathComponent)")
        return ClaimedJob(id: final.lastPathComponent, directory: final, source: source, generation: 1)
    }

    private func makeClaimDirectory() throws -> URL {
        lock.lock()
        claimCounter += 1
        let n = claimCounter
        lock.unlock()
        let host = SpoolLayout.jobID(forFileName: identity.host)
        let name = "\(SpoolLayout.claimPrefix)\(host).\(identity.pid).\(n).\(UInt32.random(in: 0...UInt32.max))"
        let url = processing.appendingPathComponent(name, isDirectory: true)
        try FileOps.makeDirectory(url)
        return url
    }

    /// Renames `source` to `<parent>/<id>`, or `<id>-2`, `<id>-3`… when taken (also skipping ids used in
    /// done/ and failed/ when `parent` is processing/). Nil when `source` vanished (another process moved it).
    func moveToUniqueDirectory(_ source: URL, in parent: URL, id: String) throws -> URL? {
        var n = 1
        while true {
            let name = n == 1 ? id : "\(id)-\(n)"
            n += 1
            let destination = parent.appendingPathComponent(name, isDirectory: true)
            if parent == processing,
                FileOps.lstatInfo(done.appendingPathComponent(name)) != nil
                    || FileOps.lstatInfo(failed.appendingPathComponent(name)) != nil
            {
                continue
            }
            switch try FileOps.renameNoReplace(source, to: destination) {
            case .renamed: return destination
            case .destinationExists: continue
            case .sourceMissing: return nil
            }
        }
    }
}
