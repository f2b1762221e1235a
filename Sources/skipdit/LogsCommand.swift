// skipdit logs JOB [--follow] — the job's log (processing/, done/ or failed/ JOB/job.log): every line the
// daemon logged about it and one line per command that touched it; for a job on Slurm also each task's
// output (slurm-*.out). --follow prints new lines as they come, across the job's move to done/ or
// failed/, and ends when the job has ended (or waits for a queued job to start). --json prints one
// object per line: {"job", "file", "line"}, and with --follow a last {"job", "state"}.

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Spool

#if canImport(Glibc)
    import Glibc
#endif

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Show a job's log (and its Slurm tasks' output); --follow to watch it.")

    @Argument(help: "The job id (`skipdit status` lists them).")
    var job: String

    @Flag(name: [.short, .long], help: "Print new lines as they come until the job is done or failed.")
    var follow = false

    @Option(help: "The daemon configuration (names the spool).")
    var config: String = DaemonConfig.defaultPath

    @Flag(help: "Print one JSON object per line.")
    var json = false

    private struct Line: Encodable {
        var job: String
        var file: String
        var line: String
    }

    private struct End: Encodable {
        var job: String
        var state: String
    }

    func run() async throws {
        let spool = try QueueCommandSupport.spool(config: config)
        var location = try spool.locate(jobID: job)
        if location == nil {  // a daemon may be between the two renames of its claim: look once more
            try await Task.sleep(nanoseconds: 200_000_000)
            location = try spool.locate(jobID: job)
        }
        guard location != nil else { throw SpoolError.jobNotFound(jobID: job, spool: spool.root.path) }
        if case .incoming = location, !follow {
            FileHandle.standardError.write(Data("\(job) is queued in incoming/ and has no log yet\n".utf8))
            return
        }
        // Wait for a queued job to be claimed (its folder in processing/ holds the log).
        while case .incoming = location {
            try await Task.sleep(nanoseconds: 200_000_000)
            location = try spool.locate(jobID: job) ?? location
        }
        guard let directory = location?.directory else {
            throw SpoolError.jobNotFound(jobID: job, spool: spool.root.path)
        }
        let logURL = directory.appendingPathComponent(SpoolDirectory.jobLogFileName)
        var fd: Int32 = open(logURL.path, O_RDONLY | O_CLOEXEC)
        defer { if fd >= 0 { close(fd) } }
        var pending = Data()
        func drain() throws {
            guard fd >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                pending.append(contentsOf: buffer[0..<n])
            }
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                try emit(line, file: SpoolDirectory.jobLogFileName)
            }
        }
        try drain()
        if follow {
            // The descriptor follows the folder's rename: keep reading it until the job has ended.
            while true {
                let ended =
                    try spool.locate(jobID: job).map { l -> Bool in
                        if case .processing = l { return false }
                        if case .incoming = l { return false }
                        return true
                    } ?? true
                if fd < 0 {  // the log did not exist yet (a job claimed a moment ago)
                    fd = open(
                        (try spool.locate(jobID: job)?.directory ?? directory).appendingPathComponent(
                            SpoolDirectory.jobLogFileName
                        )
                        .path, O_RDONLY | O_CLOEXEC)
                }
                try drain()
                if ended { break }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            try drain()
        }
        if !pending.isEmpty { try emit(String(decoding: pending, as: UTF8.self), file: SpoolDirectory.jobLogFileName) }
        let final = try spool.locate(jobID: job)?.directory ?? directory
        try printSlurmOutputs(in: final)
        if follow, json, let state = try spool.locate(jobID: job) {
            print(try JSONText.encode(End(job: job, state: state.name)), terminator: "")
        }
    }

    private func emit(_ line: String, file: String) throws {
        if json {
            print(try JSONText.encode(Line(job: job, file: file, line: line)), terminator: "")
        } else {
            print(line)
        }
    }

    /// The output files of the job's Slurm tasks, each under a header line.
    private func printSlurmOutputs(in directory: URL) throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("slurm-") && $0.hasSuffix(".out") }.sorted()
        for name in names {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
                continue
            }
            if !json { print("==> \(name) <==") }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(
                text.hasSuffix("\n") ? 1 : 0)
            {
                try emit(String(line), file: name)
            }
        }
    }
}
