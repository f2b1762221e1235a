// CrashSoakTests (issue 14, item 6): daemons render several demo-model jobs on one spool and are killed
// with SIGKILL at seeded-random moments, each restarted at once, then left to finish. Afterwards:
//   - every job is in done/ exactly once: none in failed/, nothing left in processing/ or incoming/;
//   - its lease history shows that it was only ever taken over from a killed owner, after the kill,
//     and result.yaml names the owner of its last rendering lease (attempt = that lease's generation);
//   - every video and poster is byte-identical (sha256) to an uninterrupted `skipdit render` of the same
//     job with the same compute settings, and result.yaml records those hashes;
//   - nothing partial is left anywhere: no hidden temp file (`.name.pid.xxxx.tmp`) in the output folder
//     or the spool, no claim directory, no checkpoint outside processing/.
//
// Kill moments mix three kinds: soon after the daemon is up (recovery, claim, model load), at a uniform
// time into its life (mostly mid-denoising), and just after one of its renders enters decoding (VAE, MP4
// and poster writes, the checkpoint between videos, finishing into done/).
//
// `make test` runs the short variant: one daemon, 4 jobs x 2 seeds x 40 steps, 8 kills. `make soak`
// runs the long one (SKIPDIT_SOAK=long): two daemons on one spool, killed independently, 12 jobs,
// 35 kills each. The seed is printed; SKIPDIT_SOAK_SEED=<n> replays the schedule (the moments are
// relative to the daemon's start and its render's phase, so a replay lands close, not exactly, on the
// same places). SKIPDIT_SOAK_KILLS=<n> sets the kills per daemon.

import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// SplitMix64: a small seeded generator, so a kill schedule can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class CrashSoakTests: DaemonTestCase {
    /// The size of one soak.
    struct Soak: CustomStringConvertible {
        var name: String
        var jobs: Int
        var seedsPerJob: Int
        var steps: Int
        var daemons: Int
        var killsPerDaemon: Int
        /// --test-step-delay: slows each sampler step so kills land mid-render.
        var stepDelay: Double
        /// The range of the uniform kill moment after the daemon is up.
        var uniformDelay: ClosedRange<Double>
        /// How long the jobs may take to finish after the last kill.
        var finishTimeout: TimeInterval
        var description: String {
            "\(name): \(daemons) daemon(s), \(killsPerDaemon) kills each, \(jobs) jobs x \(seedsPerJob) seeds x "
                + "\(steps) steps, step delay \(stepDelay) s"
        }

        static let short = Soak(
            name: "short", jobs: 4, seedsPerJob: 2, steps: 40, daemons: 1, killsPerDaemon: 8, stepDelay: 0.02,
            uniformDelay: 0.4...2.0, finishTimeout: 120)
        static let long = Soak(
            name: "long", jobs: 12, seedsPerJob: 2, steps: 60, daemons: 2, killsPerDaemon: 35, stepDelay: 0.02,
            uniformDelay: 0.3...2.5, finishTimeout: 300)

        /// SKIPDIT_SOAK=long picks the long soak; SKIPDIT_SOAK_KILLS overrides the kills per daemon.
        static var current: Soak {
            let environment = ProcessInfo.processInfo.environment
            var soak = environment["SKIPDIT_SOAK"] == "long" ? long : short
            if let kills = environment["SKIPDIT_SOAK_KILLS"].flatMap(Int.init), kills >= 0 {
                soak.killsPerDaemon = kills
            }
            return soak
        }
    }

    static let classes = ["left", "right", "up", "down", "grow", "shrink", "bounce"]

    /// One kill, as printed and kept for the lease checks.
    struct Kill: CustomStringConvertible {
        var slot: Int
        var number: Int
        var pid: Int32
        var kind: String
        /// Seconds since the soak began, and since this daemon was up.
        var at: Double
        var afterReady: Double
        var sent: Date
        var running: String
        var description: String {
            String(
                format: "kill %d.%d pid %d at +%.3f s (%.3f s after ready, %@): %@", slot, number, pid, at, afterReady,
                kind, running)
        }
    }

    /// What the daemon slots share (they run on their own threads).
    final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var kills: [Kill] = []
        private var errors: [String] = []
        private var daemons: [DaemonProcess] = []
        private var finals: [DaemonProcess] = []
        func add(_ kill: Kill) {
            lock.withLock { kills.append(kill) }
            print("CrashSoak: \(kill)")
        }
        func fail(_ message: String) { lock.withLock { errors.append(message) } }
        func started(_ daemon: DaemonProcess, last: Bool = false) {
            lock.withLock {
                daemons.append(daemon)
                if last { finals.append(daemon) }
            }
        }
        /// The daemons started after the last kills, which finish the jobs.
        var lastDaemons: [DaemonProcess] { lock.withLock { finals } }
        var allKills: [Kill] { lock.withLock { kills } }
        var allErrors: [String] { lock.withLock { errors } }
        var allDaemons: [DaemonProcess] { lock.withLock { daemons } }
    }

    func testRandomKill9sWhileJobsRenderLeaveEachJobDoneOnceWithTheUninterruptedVideos() throws {
        let soak = Soak.current
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["SKIPDIT_SOAK_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...999_999)
        print("CrashSoak: \(soak); seed \(seed) (SKIPDIT_SOAK_SEED=\(seed) replays the schedule)")
        let began = Date()

        let spool = try makeSpool("soak")
        try writeConfig(spool)
        let ids = (0..<soak.jobs).map { String(format: "soak%02d", $0) }
        var seeds: [String: [Int]] = [:]
        let jobFolder = spool.root.appendingPathComponent("jobs")
        try FileManager.default.createDirectory(at: jobFolder, withIntermediateDirectories: true)
        for (i, id) in ids.enumerated() {
            seeds[id] = (1...soak.seedsPerJob).map { 100 * i + $0 }
            let text = job(id, index: i, seeds: seeds[id]!, steps: soak.steps)
            try Data(text.utf8).write(to: jobFolder.appendingPathComponent("\(id).yaml"))
            try spool.submit("\(id).yaml", text)
        }

        // The uninterrupted renders, in the background while the daemons are being killed.
        let references = spool.root.appendingPathComponent("reference")
        let referenceDone = DispatchSemaphore(value: 0)
        let referenceErrors = Shared()
        Thread.detachNewThread { [config = spool.config] in
            defer { referenceDone.signal() }
            for id in ids {
                do {
                    let job = jobFolder.appendingPathComponent("\(id).yaml")
                    let (status, text) = try SkipditBinary.run(
                        ["render", job.path, "--config", config.path, "--output", references.path])
                    if status != 0 { referenceErrors.fail("reference render of \(id) exited \(status): \(text)") }
                } catch {
                    referenceErrors.fail("reference render of \(id): \(error)")
                }
            }
        }

        // The daemon slots: start, wait until up, kill at the drawn moment, restart; then one that stays.
        let shared = Shared()
        let arguments = ["--test-step-delay", String(soak.stepDelay)]
        let daemonEnvironment = ["OPENBLAS_NUM_THREADS": "1"]
        let allDone = { spool.list("done").count + spool.list("failed").count >= ids.count }
        let slotsDone = DispatchGroup()
        for slot in 0..<soak.daemons {
            let slotSeed = seed &+ UInt64(slot) &* 0x5851_F42D_4C95_7F2D
            slotsDone.enter()
            Thread.detachNewThread {
                defer { slotsDone.leave() }
                var rng = SplitMix64(seed: slotSeed)
                do {
                    for number in 1...max(1, soak.killsPerDaemon) where soak.killsPerDaemon > 0 {
                        // Draw everything first, so the schedule does not depend on what happened.
                        let roll = Double.random(in: 0..<1, using: &rng)
                        let uniform = Double.random(in: soak.uniformDelay, using: &rng)
                        let early = Double.random(in: 0...0.3, using: &rng)
                        let afterDecoding = Double.random(in: 0...0.15, using: &rng)
                        if allDone() { break }
                        let daemon = try DaemonProcess(
                            spool, arguments: arguments, environment: daemonEnvironment, name: "d\(slot)-\(number)")
                        shared.started(daemon)
                        guard Self.waitUntilUp(daemon) else {
                            shared.fail("daemon \(slot).\(number) did not come up:\n\(daemon.logText)")
                            return
                        }
                        let up = Date()
                        let kind: String
                        if roll < 0.15 {
                            kind = "early"
                            Thread.sleep(forTimeInterval: early)
                        } else if roll < 0.4 {
                            kind = "decoding"
                            Self.poll(timeout: 10) {
                                allDone() || Self.ownsDecodingJob(spool, pid: daemon.pid) || !daemon.process.isRunning
                            }
                            Thread.sleep(forTimeInterval: afterDecoding)
                        } else {
                            kind = "uniform"
                            Thread.sleep(forTimeInterval: uniform)
                        }
                        guard daemon.process.isRunning else {
                            shared.fail("daemon \(slot).\(number) exited on its own:\n\(daemon.logText)")
                            return
                        }
                        let running = Self.describeProcessing(spool, pid: daemon.pid)
                        let sent = Date()
                        daemon.signal(SIGKILL)
                        shared.add(
                            Kill(
                                slot: slot, number: number, pid: daemon.pid, kind: kind,
                                at: sent.timeIntervalSince(began), afterReady: sent.timeIntervalSince(up), sent: sent,
                                running: running))
                        guard daemon.waitForExit(timeout: 10) == SIGKILL else {
                            shared.fail("daemon \(slot).\(number) did not die of SIGKILL")
                            return
                        }
                    }
                    let last = try DaemonProcess(
                        spool, arguments: arguments, environment: daemonEnvironment, name: "d\(slot)-last")
                    shared.started(last, last: true)
                } catch {
                    shared.fail("daemon slot \(slot): \(error)")
                }
            }
        }
        slotsDone.wait()
        let kills = shared.allKills
        let killedPIDs = Set(kills.map(\.pid))
        let killSummary = "seed \(seed), \(kills.count) kills:\n" + kills.map(\.description).joined(separator: "\n")
        guard shared.allErrors.isEmpty else {
            XCTFail("\(shared.allErrors.joined(separator: "\n"))\n\(killSummary)")
            return
        }
        print(
            String(
                format: "CrashSoak: %d kills in %.1f s; letting the jobs finish", kills.count,
                Date().timeIntervalSince(began)))

        // Let the last daemons finish the jobs and clean up after the kills.
        let finishTimeout = soak.finishTimeout * TestTiming.scale
        let deadline = Date().addingTimeInterval(finishTimeout)
        Self.poll(timeout: finishTimeout) {
            allDone() || shared.lastDaemons.contains { !$0.process.isRunning }
        }
        let logs = { shared.allDaemons.map { "--- \($0.log.lastPathComponent)\n\($0.logText)" }.joined() }
        guard allDone() else {
            XCTFail("the jobs did not finish (\(killSummary)); done: \(spool.list("done")), logs:\n\(logs())")
            return
        }
        // A kill can leave a half-made claim or temp files that the survivors clear on their next scan.
        Self.poll(timeout: max(5, deadline.timeIntervalSinceNow)) {
            Self.everything(in: spool.spool.appendingPathComponent("processing")).isEmpty
        }
        for daemon in shared.lastDaemons { XCTAssertEqual(daemon.stop(), 0, daemon.logText) }
        referenceDone.wait()
        XCTAssertEqual(referenceErrors.allErrors, [])
        let soakSeconds = Date().timeIntervalSince(began)

        // Every job done exactly once, nothing elsewhere.
        XCTAssertEqual(spool.list("done"), ids, killSummary)
        XCTAssertEqual(spool.list("failed"), [], killSummary)
        XCTAssertEqual(Self.everything(in: spool.spool.appendingPathComponent("processing")), [], killSummary)
        XCTAssertEqual(Self.everything(in: spool.spool.appendingPathComponent("incoming")), [], killSummary)

        // Nothing partial anywhere: no hidden (temp) file, no checkpoint outside processing/.
        for path in Self.everything(in: spool.spool) {
            let name = (path as NSString).lastPathComponent
            XCTAssertFalse(name.hasPrefix("."), "a hidden leftover in the spool: \(path) (\(killSummary))")
            XCTAssertNotEqual(name, "checkpoint.bin", "a checkpoint outside processing/: \(path)")
        }
        let expectedOutputs = ids.flatMap { id in seeds[id]!.flatMap { ["\(id)-\($0).mp4", "\(id)-\($0).png"] } }
        XCTAssertEqual(
            Self.everything(in: spool.output), expectedOutputs.sorted(),
            "the output folder must hold exactly the videos and posters (\(killSummary))")

        // Each job: one result, rendered by the owner of its last rendering lease, every earlier lease
        // held by a daemon that was killed and taken over only after the kill.
        let allLogs = shared.allDaemons.map(\.logText).joined()
        var resumed = 0
        var takenOver = 0
        for id in ids {
            let directory = spool.spool.appendingPathComponent("done/\(id)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            let generations = files.compactMap { $0.hasPrefix("lease.") ? Int($0.dropFirst(6)) : nil }.sorted()
            XCTAssertEqual(generations, Array(1...max(1, generations.count)), "\(id): lease generations \(files)")
            XCTAssertEqual(
                Set(files).subtracting(["job.yaml", "result.yaml", "progress.yaml", "job.log"]).filter {
                    !$0.hasPrefix("lease.")
                },
                [], "\(id): unexpected files in done/: \(files)")
            let record = spool.result("done", id)
            XCTAssertEqual(Records.value("status", in: record), "done", record)
            let attempt = Int(Records.value("attempt", in: record) ?? "") ?? -1
            let finisher = Records.value("pid", in: record) ?? "?"
            let leases = generations.map { spool.text("done", id, "lease.\($0)") ?? "" }
            XCTAssertTrue(generations.contains(attempt), "\(id): attempt \(attempt) has no lease\n\(record)")
            if generations.contains(attempt) {
                XCTAssertEqual(
                    Records.value("pid", in: leases[attempt - 1]), finisher,
                    "\(id): result.yaml was written by pid \(finisher), not by the owner of lease \(attempt)")
            }
            for (g, lease) in leases.enumerated().dropLast() {
                // Lease g+1 was taken from the owner of lease g: that owner must have been killed (a
                // released lease is a claim that recovery handed back; it did not render).
                guard Records.value("released", in: lease) != "true" else { continue }
                takenOver += 1
                let pid = Int32(Records.value("pid", in: lease) ?? "") ?? -1
                XCTAssertTrue(
                    killedPIDs.contains(pid),
                    "\(id): lease \(g + 1) (pid \(pid)) was taken over, but pid \(pid) was never killed")
                if let kill = kills.first(where: { $0.pid == pid }),
                    let next = Self.date(Records.value("claimed", in: leases[g + 1]) ?? "")
                {
                    XCTAssertGreaterThanOrEqual(
                        next.timeIntervalSince(kill.sent), -0.002,
                        "\(id): lease \(g + 2) was taken before pid \(pid) was killed")
                }
            }
            let starts = allLogs.components(separatedBy: "[\(id)] starting ").count - 1
            XCTAssertTrue(
                (1...generations.count).contains(starts),
                "\(id): \(starts) render starts for \(generations.count) leases")
            if record.contains("resumed_from:") { resumed += 1 }

            // The videos: the uninterrupted render's files, and the hashes result.yaml records.
            for s in seeds[id]! {
                for file in ["\(id)-\(s).mp4", "\(id)-\(s).png"] {
                    let got = try sha256(spool.output.appendingPathComponent(file))
                    let want = try sha256(references.appendingPathComponent(file))
                    XCTAssertEqual(got, want, "\(file) differs from the uninterrupted render (\(killSummary))")
                    if file.hasSuffix(".mp4") {
                        XCTAssertTrue(
                            record.contains("sha256: \(want)\n") || record.contains("sha256: \"\(want)\"\n"),
                            "\(id): result.yaml lacks \(file)'s hash")
                    }
                }
            }
        }
        for line in allLogs.split(separator: "\n") where line.contains("partial") {
            print("CrashSoak: daemon log: \(line)")
        }
        let partialOutputs = allLogs.components(separatedBy: "a partial output of an earlier attempt").count - 1
        let partialSpoolFiles = allLogs.components(separatedBy: "partial file(s) of earlier owners").count - 1
        print(
            String(
                format: "CrashSoak: %@ finished in %.1f s: %d kills (seed %llu), %d takeovers of killed owners, "
                    + "%d jobs resumed from a checkpoint; cleared %d partial output(s) and partial spool files %d time(s)",
                soak.name, soakSeconds, kills.count, seed, takenOver, resumed, partialOutputs, partialSpoolFiles))
        if soak.killsPerDaemon > 0 {
            XCTAssertGreaterThan(takenOver, 0, "no kill landed on a running job (\(killSummary))")
        }
    }

    /// The leftovers the soak found, made on purpose: a daemon killed mid-render, with the temp files it
    /// would have left had it died writing a video, its poster and its checkpoint. The next attempt
    /// removes those of the killed pid, and only those.
    func testTheNextAttemptRemovesThePartialFilesOfTheKilledOne() throws {
        let spool = try makeSpool("partial")
        try spool.submit("partial.yaml", TestSpool.job(class: 1, seeds: [21, 22]))
        let first = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.2"], name: "first")
        try waitUntil("step 2 of the first video") { (spool.progress("partial")?.step ?? 0) >= 2 }
        first.signal(SIGKILL)
        XCTAssertEqual(first.waitForExit(timeout: 10), SIGKILL)
        let job = spool.spool.appendingPathComponent("processing/partial")
        let planted = [
            spool.output.appendingPathComponent(".partial-21.mp4.\(first.pid).5eed.tmp"),
            spool.output.appendingPathComponent(".partial-21.png.\(first.pid).5eed.tmp"),
            job.appendingPathComponent(".checkpoint.bin.\(first.pid).12345.tmp"),
        ]
        // A live writer (this test process) of the same names: not the killed attempt's, kept.
        let live = spool.output.appendingPathComponent(".partial-22.mp4.\(getpid()).5eed.tmp")
        try FileManager.default.createDirectory(at: spool.output, withIntermediateDirectories: true)
        for url in planted + [live] { try Data("partial".utf8).write(to: url) }

        let second = try DaemonProcess(spool, name: "second")
        try waitUntil("partial in done/") { spool.list("done") == ["partial"] }
        XCTAssertEqual(second.stop(), 0)
        for url in planted {
            XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), "\(url.path) is left")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "a live writer's file was removed")
        try FileManager.default.removeItem(at: live)
        XCTAssertEqual(
            Self.everything(in: spool.output), ["partial-21.mp4", "partial-21.png", "partial-22.mp4", "partial-22.png"])
        XCTAssertEqual(
            Self.everything(in: spool.spool.appendingPathComponent("done/partial")),
            ["job.log", "job.yaml", "lease.1", "lease.2", "progress.yaml", "result.yaml"])
        XCTAssertTrue(second.logText.contains("a partial output of an earlier attempt"), second.logText)
        XCTAssertTrue(second.logText.contains("partial file(s) of earlier owners"), second.logText)
    }

    // MARK: helpers

    /// The demo model, one thread (the determinism contract holds per thread count), fast daemon timing,
    /// and no crash-loop guard: a random soak may kill one job more often than `max_attempts`.
    private func writeConfig(_ spool: TestSpool) throws {
        let text = """
            spool: \(spool.spool.path)
            output: \(spool.output.path)
            models:
            \(TestSpool.demoModel("demo"))
            compute: { threads: 1 }
            daemon:
              stability_seconds: 0.1
              rescan_seconds: 1
              heartbeat_seconds: 0.5
              checkpoint_every: 3
              max_attempts: 0

            """
        try Data(text.utf8).write(to: spool.config)
    }

    /// Job `index`: classes, samplers and Skip-Cache settings vary from job to job.
    private func job(_ id: String, index: Int, seeds: [Int], steps: Int) -> String {
        let sampler = index % 3 == 2 ? "sampler: ddpm\n" : ""
        let cache = index % 2 == 0 ? "cache: { interval: 2 }\n" : "cache: off\n"
        return "version: 1\nmodel: demo\nclass: \(Self.classes[index % Self.classes.count])\n"
            + "seeds: [\(seeds.map(String.init).joined(separator: ", "))]\nsteps: \(steps)\n" + sampler + cache
            + "output: \"\(id)-{seed}.mp4\"\n"
    }

    /// Waits until the daemon logged that it watches the spool (after its start-up recovery).
    private static func waitUntilUp(_ daemon: DaemonProcess) -> Bool {
        poll(timeout: 30) { daemon.logText.contains("watching ") || !daemon.process.isRunning }
        return daemon.process.isRunning && daemon.logText.contains("watching ")
    }

    /// Polls `condition` every 5 ms until it holds or `timeout` passes.
    private static func poll(timeout: TimeInterval, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }

    /// The jobs in processing/ whose current lease `pid` holds.
    private static func owned(_ spool: TestSpool, pid: Int32) -> [String] {
        spool.list("processing").filter { id in
            let directory = spool.spool.appendingPathComponent("processing/\(id)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            guard let g = names.compactMap({ $0.hasPrefix("lease.") ? Int($0.dropFirst(6)) : nil }).max() else {
                return false
            }
            return Records.value("pid", in: spool.text("processing", id, "lease.\(g)") ?? "") == String(pid)
        }
    }

    /// True when a job of `pid` is decoding (or past it: encoding, finishing).
    private static func ownsDecodingJob(_ spool: TestSpool, pid: Int32) -> Bool {
        owned(spool, pid: pid).contains { spool.progress($0)?.phase.hasPrefix("decoding") == true }
    }

    /// "soak01 (ours) denoising video 2/2 step 17, soak03 …" for the kill log.
    private static func describeProcessing(_ spool: TestSpool, pid: Int32) -> String {
        let mine = Set(owned(spool, pid: pid))
        let entries = spool.list("processing").map { id -> String in
            let p = spool.progress(id).map { "\($0.phase) step \($0.step)" } ?? "no progress"
            return "\(id)\(mine.contains(id) ? " (its own)" : "") \(p)"
        }
        let done = spool.list("done").count
        return entries.isEmpty
            ? "nothing in processing/, \(done) done" : entries.joined(separator: ", ") + ", \(done) done"
    }

    /// Every entry below `folder` (files and folders, hidden ones too), relative, sorted.
    private static func everything(in folder: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return e.compactMap { $0 as? String }.sorted()
    }

    private static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
