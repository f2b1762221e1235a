// QueueControlTests: the queue controls on the real binary and a real daemon: hold and release of a
// running job (it stops at a step boundary with its checkpoint and resumes to bit-identical latents), of
// a queued job and of the whole spool (--now), retry of cancelled and invalid jobs, priority, `after:`
// dependencies (waiting, failed, missing, cycles), the per-job log with `logs --follow`, --json, and
// transient failures (a full output filesystem) retried with a back-off. Two race tests run the
// commands against a running daemon: hold during claim, and retry during start-up recovery.

import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class QueueControlTests: DaemonTestCase {
    let job = TestSpool.job(class: 2, seeds: [11, 12])
    let slow = ["--test-step-delay", "0.25", "--dump-latents"]

    /// The JSON object of a command's output.
    private func json(_ output: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8))
        return try XCTUnwrap(object as? [String: Any], output, file: file, line: line)
    }

    /// Runs a command against the spool and expects exit status 0.
    @discardableResult
    private func ok(_ spool: TestSpool, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line)
        throws -> String
    {
        let result = try spool.command(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments): \(result.output)", file: file, line: line)
        return result.output
    }

    /// The ids of the jobs a live daemon runs now (status --json).
    private func running(_ spool: TestSpool) throws -> [String] {
        let status = try json(try spool.command(["status", "--json"]).output)
        return ((status["running"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }

    func testHoldOfARunningJobStopsItWithItsCheckpointAndReleaseResumesBitIdentically() throws {
        let spool = try makeSpool("hold-running")
        try spool.submit("night.yaml", job)
        let daemon = try DaemonProcess(spool, arguments: slow)
        try waitUntil("night at step 3") { (spool.progress("night")?.step ?? 0) >= 3 }
        let hold = try json(ok(spool, ["hold", "night", "--wait", "\(20 * TestTiming.scale)", "--json"]))
        XCTAssertEqual(hold["ok"] as? Bool, true)
        XCTAssertEqual(hold["state"] as? String, "held")
        XCTAssertTrue(spool.exists("processing", "night", "hold"))
        XCTAssertTrue(spool.exists("processing", "night", "checkpoint.bin"))
        XCTAssertEqual(Records.value("released", in: spool.text("processing", "night", "lease.1") ?? ""), "true")
        Thread.sleep(forTimeInterval: 1.5)  // rescans every second: it is not taken again
        XCTAssertFalse(spool.exists("processing", "night", "lease.2"))
        let status = try ok(spool, ["status"])
        XCTAssertTrue(status.contains("running (0)\n"), status)
        XCTAssertTrue(status.contains("held (1)\n  night "), status)
        let snapshot = try json(ok(spool, ["status", "--json"]))
        XCTAssertEqual((snapshot["held"] as? [[String: Any]])?.first?["id"] as? String, "night")

        XCTAssertTrue(try ok(spool, ["release", "night"]).hasPrefix("released night"))
        try waitUntil("night in done/") { spool.list("done") == ["night"] }
        let record = spool.result("done", "night")
        XCTAssertEqual(Records.value("attempt", in: record), "2", record)
        XCTAssertTrue(record.contains("resumed_from:\n  video_index: 0\n  step: "), record)
        let log = try ok(spool, ["logs", "night"])
        for line in [
            "[night] starting night.yaml, attempt 1",
            "hold requested (it stops at the next step boundary) by skipdit hold",
            "held: stopped with its checkpoint", "released by skipdit release", "[night] done → ",
        ] {
            XCTAssertTrue(log.contains(line), "no '\(line)' in:\n\(log)")
        }
        XCTAssertTrue(spool.exists("done", "night", "job.log"))
        XCTAssertTrue(spool.exists("done", "night", "history.2.yaml"), "held, released")

        try spool.submit("reference.yaml", job)
        try waitUntil("reference in done/") { spool.list("done") == ["night", "reference"] }
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
        try spool.assertSameRender("night", "reference", seeds: [11, 12])
    }

    func testHoldOfAQueuedJobAndOfTheSpoolWithAndWithoutNow() throws {
        let spool = try makeSpool("hold-spool")
        try spool.submit("later.yaml", TestSpool.job(seeds: [5]))
        XCTAssertTrue(try ok(spool, ["hold", "later"]).hasPrefix("held later"), "no daemon runs: it acts on the spool")
        try spool.submit("first.yaml", TestSpool.job(seeds: [1], extra: "steps: 30\n"))
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.1"])
        try waitUntil("first running") { (spool.progress("first")?.step ?? 0) >= 1 }

        // The spool hold: the running render goes on, nothing new starts.
        let all = try json(ok(spool, ["hold", "--all", "--json"]))
        XCTAssertEqual(all["spool_held"] as? Bool, true)
        try spool.submit("blocked.yaml", TestSpool.job(seeds: [2]))
        try waitUntil("first in done/") { spool.list("done") == ["first"] }
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(spool.list("incoming"), ["blocked.yaml"])
        XCTAssertEqual(spool.list("processing"), ["later"])
        XCTAssertTrue(try ok(spool, ["status"]).contains("held: nothing new starts"))
        let released = try json(ok(spool, ["release", "--all", "--json"]))
        XCTAssertEqual(released["jobs"] as? [String], ["later"])
        try waitUntil("later and blocked in done/") { spool.list("done") == ["blocked", "first", "later"] }

        // --now also stops the running job at its step boundary; release --all resumes it.
        try spool.submit("long.yaml", TestSpool.job(seeds: [3], extra: "steps: 40\n"))
        try waitUntil("long running") { (spool.progress("long")?.step ?? 0) >= 2 }
        let now = try json(ok(spool, ["hold", "--all", "--now", "--json"]))
        XCTAssertEqual(now["jobs"] as? [String], ["long"])
        try waitUntil("long stopped") { (try? self.running(spool)) == [] }
        XCTAssertTrue(spool.exists("processing", "long", "hold"))
        try ok(spool, ["release", "--all"])
        try waitUntil("long in done/") { spool.list("done").contains("long") }
        XCTAssertTrue(spool.result("done", "long").contains("resumed_from:"))
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testRetryOfACancelledJobResumesAndAnInvalidOneIsRefusedUntilFixed() throws {
        let spool = try makeSpool("retry")
        try spool.submit("cut.yaml", job)
        try spool.submit("typo.yaml", TestSpool.job(extra: "stpes: 5\n"))
        let daemon = try DaemonProcess(spool, arguments: slow)
        try waitUntil("cut at step 3 of its second video") {
            guard let p = spool.progress("cut") else { return false }
            return p.phase == "denoising video 2/2" && p.step >= 3
        }
        try ok(spool, ["cancel", "cut", "--wait", "\(20 * TestTiming.scale)"])
        try waitUntil("typo in failed/") { spool.list("failed") == ["cut", "typo"] }
        XCTAssertTrue(spool.exists("failed", "cut", "checkpoint.bin"), "a cancelled job keeps its checkpoint")

        let refused = try spool.command(["retry", "typo"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("unknown key 'stpes'"), refused.output)
        let refusedJSON = try spool.command(["retry", "typo", "--json"])
        XCTAssertEqual(refusedJSON.status, 1)
        XCTAssertEqual(try json(refusedJSON.output)["ok"] as? Bool, false)
        XCTAssertEqual(spool.list("failed"), ["cut", "typo"])

        let retried = try json(ok(spool, ["retry", "cut", "--json"]))
        XCTAssertEqual(retried["state"] as? String, "queued")
        try waitUntil("cut in done/") { spool.list("done") == ["cut"] }
        let record = spool.result("done", "cut")
        XCTAssertTrue(record.contains("resumed_from:\n  video_index: 1\n  step: "), record)
        XCTAssertEqual(Records.value("reason", in: spool.text("done", "cut", "result.1.yaml") ?? ""), "cancelled")
        XCTAssertTrue(spool.text("done", "cut", "history.1.yaml")?.contains("event: retried") ?? false)
        // lease.1 rendered and was cancelled; retry published lease.2 (released, restart); lease.3 resumed.
        XCTAssertTrue(spool.text("done", "cut", "lease.2")?.contains("restart: true") ?? false)

        // Fixed in place, it is accepted.
        try Data(TestSpool.job().utf8).write(
            to: spool.spool.appendingPathComponent("failed/typo/job.yaml"), options: .atomic)
        try ok(spool, ["retry", "typo"])
        try waitUntil("typo in done/") { spool.list("done") == ["cut", "typo"] }
        let notFailed = try spool.command(["retry", "typo"])
        XCTAssertTrue(notFailed.output.contains("cannot retry job typo: it is done"), notFailed.output)

        try spool.submit("reference.yaml", job)
        try waitUntil("reference in done/") { spool.list("done") == ["cut", "reference", "typo"] }
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
        try spool.assertSameRender("cut", "reference", seeds: [11, 12])
    }

    func testPriorityAndDependencies() throws {
        let spool = try makeSpool("deps")
        try spool.submit("low.yaml", TestSpool.job(seeds: [1]))
        try spool.submit("high.yaml", TestSpool.job(seeds: [2]))
        try spool.submit("a.yaml", TestSpool.job(seeds: [3]))
        try spool.submit("b.yaml", TestSpool.job(seeds: [4], extra: "after: [a]\n"))
        try spool.submit("ghost.yaml", TestSpool.job(seeds: [5], extra: "after: [nobody]\n"))
        try spool.submit("x.yaml", TestSpool.job(seeds: [6], extra: "after: [y]\n"))
        try spool.submit("y.yaml", TestSpool.job(seeds: [7], extra: "after: [x]\n"))
        try spool.submit("bad.yaml", TestSpool.job(seeds: [8], extra: "steps: fifty\n"))
        try spool.submit("c.yaml", TestSpool.job(seeds: [9], extra: "after: [bad]\n"))
        let change = try json(ok(spool, ["priority", "high", "50", "--json"]))
        XCTAssertEqual(change["priority"] as? Int, 50)
        XCTAssertEqual(change["job_file_priority"] as? Int, 0)
        let queued = (try json(ok(spool, ["status", "--json"]))["queued"] as? [[String: Any]]) ?? []
        XCTAssertEqual(queued.first?["id"] as? String, "high")
        XCTAssertEqual(queued.first { $0["id"] as? String == "b" }?["after"] as? [String], ["a"])

        let incoming = spool.spool.appendingPathComponent("incoming")
        let validate = try SkipditBinary.run([
            "validate", "--config", spool.config.path, incoming.appendingPathComponent("x.yaml").path,
            incoming.appendingPathComponent("y.yaml").path,
        ])
        XCTAssertEqual(validate.status, 1, validate.output)
        XCTAssertTrue(validate.output.contains("dependency cycle: x -> y -> x"), validate.output)

        let daemon = try DaemonProcess(spool)
        try waitUntil("all ended") { spool.list("done").count + spool.list("failed").count == 9 }
        XCTAssertEqual(spool.list("done"), ["a", "b", "high", "low"])
        XCTAssertEqual(spool.list("failed"), ["bad", "c", "ghost", "x", "y"])
        func reason(_ id: String) -> String { Records.value("reason", in: spool.result("failed", id)) ?? "" }
        XCTAssertEqual(
            reason("ghost"), "after: nobody does not exist in the spool (not queued, running, done or failed)")
        // The first of the two to be looked at fails for the cycle, the other for it.
        let cycle = [reason("x"), reason("y")].sorted { $0.count < $1.count }
        XCTAssertTrue(
            ["dependency cycle: x -> y -> x", "dependency cycle: y -> x -> y"].contains(cycle[0]), "\(cycle)")
        XCTAssertTrue(cycle[1].hasSuffix("failed: " + cycle[0]), "\(cycle)")
        XCTAssertTrue(reason("c").hasPrefix("after: bad failed: "), reason("c"))
        func finished(_ id: String) -> String { Records.value("finished", in: spool.result("done", id)) ?? "" }
        XCTAssertLessThan(finished("a"), finished("b"))
        XCTAssertLessThan(finished("high"), finished("low"))
        XCTAssertLessThan(finished("high"), finished("a"), "priority 50 runs first")
        XCTAssertTrue(spool.text("done", "high", "history.1.yaml")?.contains("job_file: 0") ?? false)
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testLogsFollowPrintsTheRenderUntilTheJobIsDone() throws {
        let spool = try makeSpool("logs")
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.1"])
        try spool.submit("watched.yaml", TestSpool.job(extra: "steps: 12\n"))
        let process = Process()
        process.executableURL = try SkipditBinary.require()
        process.arguments = ["logs", "watched", "--follow", "--json", "--config", spool.config.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        let objects = try lines.map { try json($0) }
        let text = objects.compactMap { $0["line"] as? String }.joined(separator: "\n")
        XCTAssertTrue(text.contains("starting watched.yaml"), text)
        XCTAssertTrue(text.contains("done → "), text)
        XCTAssertEqual(objects.last?["state"] as? String, "done")
        XCTAssertEqual(spool.list("done"), ["watched"])
        let missing = try spool.command(["logs", "nosuch"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testTransientFailuresAreRetriedWithBackoffThenFailAndRetryResumes() throws {
        let spool = try makeSpool("transient")
        guard let disk = SmallFilesystem(at: spool.output, kilobytes: 64) else {
            throw XCTSkip("tmpfs cannot be mounted here")
        }
        defer { disk.unmount() }
        try spool.writeConfig(
            extra: TestSpool.fastDaemon
                + "\n  transient_retries: 2\n  transient_backoff_seconds: 0.5\n  transient_backoff_max_seconds: 1")
        let filler = try disk.fill(leaving: 4)
        let daemon = try DaemonProcess(spool)
        try spool.submit("full.yaml", TestSpool.job(seeds: [1]))
        try waitUntil("full in failed/") { spool.list("failed") == ["full"] }
        let reason = Records.value("reason", in: spool.result("failed", "full")) ?? ""
        XCTAssertTrue(reason.contains("No space left on device"), reason)
        XCTAssertTrue(reason.contains("gave up after 2 retries"), reason)
        let history = (1...2).compactMap { spool.text("failed", "full", "history.\($0).yaml") }
        XCTAssertEqual(history.filter { $0.contains("event: transient_failure") }.count, 2, "\(history)")
        XCTAssertTrue(daemon.logText.contains("transient failure 1 of 2"), daemon.logText)

        try FileManager.default.removeItem(at: filler)
        try ok(spool, ["retry", "full"])
        try waitUntil("full in done/") { spool.list("done") == ["full"] }
        XCTAssertEqual(spool.outputs(), ["full-1.mp4", "full-1.png"])
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    // MARK: races against a running daemon

    func testHoldDuringClaimNeverLetsAHeldJobRender() throws {
        let spool = try makeSpool("hold-race")
        try spool.writeConfig(
            extra: TestSpool.fastDaemon.replacingOccurrences(
                of: "stability_seconds: 0.1", with: "stability_seconds: 0.05"))
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.1"])
        try waitUntil("the daemon serving") { daemon.logText.contains("watching") }
        let ids = (0..<8).map { "r\($0)" }
        for (n, id) in ids.enumerated() {
            // The command starts first (it waits a moment for a job it cannot find yet), the file is renamed
            // in a little later: the command's claim and the daemon's race for the same rename.
            let holding = DispatchGroup()
            var hold: (status: Int32, output: String)?
            DispatchQueue.global().async(group: holding) { hold = try? spool.command(["hold", id]) }
            Thread.sleep(forTimeInterval: 0.03 * Double(n % 4))
            try spool.submit("\(id).yaml", TestSpool.job(seeds: [1], extra: "steps: 10\n"))
            holding.wait()
            XCTAssertEqual(hold?.status, 0, hold?.output ?? "no answer")
        }
        try waitUntil("every job held and stopped") {
            spool.list("processing") == ids && ((try? self.running(spool)) ?? ["?"]).isEmpty
        }
        XCTAssertEqual(spool.list("done"), [])
        XCTAssertEqual(spool.list("failed"), [])
        XCTAssertEqual(spool.outputs(), [])
        for id in ids { XCTAssertTrue(spool.exists("processing", id, "hold"), id) }
        // Which side won each race (the daemon's claim, or the command's): both are fine, neither renders.
        let daemonWon = ids.filter {
            Records.value("pid", in: spool.text("processing", $0, "lease.1") ?? "") == "\(daemon.pid)"
        }
        print("hold during claim: the daemon claimed \(daemonWon.count) of \(ids.count) first")
        try ok(spool, ["release", "--all"])
        try waitUntil("every job done") { spool.list("done") == ids }
        XCTAssertEqual(spool.outputs(), ids.flatMap { ["\($0)-1.mp4", "\($0)-1.png"] }.sorted())
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testRetryDuringRecoveryRendersEveryJobExactlyOnce() throws {
        let spool = try makeSpool("retry-race")
        let ids = (0..<5).map { "f\($0)" }
        for id in ids {
            try spool.submit("\(id).yaml", TestSpool.job(seeds: [1]))
            try ok(spool, ["cancel", id])  // no daemon: they fail at once
        }
        XCTAssertEqual(spool.list("failed"), ids)
        // A daemon killed mid-render leaves a job for the next one to recover at its start.
        try spool.submit("crash.yaml", job)
        let first = try DaemonProcess(spool, arguments: slow, name: "first")
        try waitUntil("crash at step 2") { (spool.progress("crash")?.step ?? 0) >= 2 }
        first.signal(SIGKILL)
        _ = first.waitForExit(timeout: 10)

        let second = try DaemonProcess(spool, name: "second")
        let retries = DispatchGroup()
        let failures = NSLock()
        var failed: [String] = []
        for id in ids {
            DispatchQueue.global().async(group: retries) {
                let result = try? spool.command(["retry", id])
                if result?.status != 0 { failures.withLock { failed.append("\(id): \(result?.output ?? "?")") } }
            }
        }
        retries.wait()
        XCTAssertEqual(failed, [])
        try waitUntil("every job done") { spool.list("done") == (ids + ["crash"]).sorted() }
        XCTAssertEqual(spool.list("failed"), [])
        XCTAssertEqual(spool.list("processing"), [])
        XCTAssertTrue(second.logText.contains("took over crash"), second.logText)
        for id in ids {
            XCTAssertEqual(Records.value("status", in: spool.result("done", id)), "done")
            XCTAssertEqual(Records.value("reason", in: spool.text("done", id, "result.1.yaml") ?? ""), "cancelled")
        }
        let videos =
            ids.flatMap { ["\($0)-1.mp4", "\($0)-1.png"] }
            + ["crash-11", "crash-12"].flatMap { ["\($0).mp4", "\($0).png"] }
        XCTAssertEqual(spool.outputs().filter { !$0.hasSuffix(".npy") }, videos.sorted())
        XCTAssertEqual(second.stop(), 0, second.logText)
    }
}
