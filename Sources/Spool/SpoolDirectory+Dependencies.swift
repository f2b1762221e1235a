// SpoolDirectory+Dependencies: `after: [JOB, ...]` in a job file. A job waits until every job it names
// is in done/; it is claimable (and then failed by the daemon, with the reason) as soon as one of them
// failed, exists nowhere in the spool, or it is on a dependency cycle: it never waits forever.
// A dependency id that is queued or running again (retried, or submitted anew) is waited for even
// when an older job of that id is in done/ or failed/.

import Foundation
import Jobs

/// Where a job's dependencies stand.
public enum DependencyState: Sendable, Equatable {
    /// Every dependency is done (or there are none).
    case ready
    /// These dependencies are not done yet.
    case waiting([String])
    /// The job can never run: the reason says why.
    case broken(String)
}

/// The spool's jobs by id, read once per scan, to judge `after:` lists.
struct DependencyIndex {
    /// Queued, held or running jobs: id -> job file.
    var pending: [String: URL]
    var done: Set<String>
    /// Failed jobs: id -> folder.
    var failed: [String: URL]
}

extension SpoolDirectory {
    func dependencyIndex() throws -> DependencyIndex {
        var pending: [String: URL] = [:]
        for name in try FileOps.list(incoming) where SpoolLayout.kind(ofIncoming: name) == .job {
            pending[SpoolLayout.jobID(forFileName: name)] = incoming.appendingPathComponent(name)
        }
        for name in try FileOps.list(processing) where !name.hasPrefix(".") {
            pending[name] = processing.appendingPathComponent(name).appendingPathComponent(SpoolLayout.jobFile)
        }
        var failedJobs: [String: URL] = [:]
        for name in try FileOps.list(failed) { failedJobs[name] = failed.appendingPathComponent(name) }
        return DependencyIndex(pending: pending, done: Set(try FileOps.list(done)), failed: failedJobs)
    }

    /// Where the dependencies `list` of job `jobID` stand; `after` reads another job file's list.
    public func dependencyState(of jobID: String, after list: [String], reading after: (URL) -> [String]) throws
        -> DependencyState
    {
        try dependencyState(of: jobID, after: list, index: dependencyIndex(), reading: after)
    }

    func dependencyState(
        of jobID: String, after list: [String], index: DependencyIndex, reading after: (URL) -> [String]
    ) throws -> DependencyState {
        guard !list.isEmpty else { return .ready }
        var waiting: [String] = []
        for dependency in list {
            if dependency == jobID { return .broken("after: \(jobID) waits for itself") }
            if index.pending[dependency] != nil {
                waiting.append(dependency)
            } else if index.done.contains(dependency) {
                continue
            } else if let folder = index.failed[dependency] {
                let result = try? readResult(folder.appendingPathComponent(SpoolLayout.resultFile))
                let reason = result?["reason"]?.stringValue.map { ": \(Self.firstLine($0))" } ?? ""
                return .broken("after: \(dependency) failed\(reason)")
            } else {
                return .broken(
                    "after: \(dependency) does not exist in the spool (not queued, running, done or failed)")
            }
        }
        guard !waiting.isEmpty else { return .ready }
        // A wait that leads back to this job never ends.
        var edges: [String: [String]] = [jobID: list]
        var frontier = waiting
        while let id = frontier.popLast() {
            guard edges[id] == nil, let file = index.pending[id] else { continue }
            let next = after(file)
            edges[id] = next
            frontier += next
        }
        if let cycle = DependencyGraph(after: edges).cycle(through: jobID) {
            return .broken("dependency cycle: \(DependencyGraph.text(cycle))")
        }
        return .waiting(waiting)
    }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? Substring(text))
    }

    /// Marks the queued jobs whose dependencies are not done (`waitingFor`); the others are claimable.
    func annotateDependencies(_ jobs: [QueuedJob], reading after: (URL) -> [String]) throws -> [QueuedJob] {
        var index: DependencyIndex?
        return try jobs.map { job in
            let list = after(job.file)
            guard !list.isEmpty else { return job }
            if index == nil { index = try dependencyIndex() }
            guard let index else { return job }
            var annotated = job
            if case let .waiting(ids) = try dependencyState(of: job.id, after: list, index: index, reading: after) {
                annotated.waitingFor = ids
            }
            return annotated
        }
    }
}
