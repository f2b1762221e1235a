// SlurmExecutorTests (issue 15): `skipdit serve` with `executor.kind: slurm` against a real, private
// single-node Slurm cluster (SlurmCluster): demo-model jobs become one array each and their videos are
// the files a local render writes; a task requeued mid-render (`scontrol requeue`) and one signalled
// like a preemption (`scancel --batch --signal=USR1`) resume from their state files to the same files;
// a daemon killed right after sbatch answered adopts the array instead of submitting again; `skipdit
// cancel` empties the queue; a bad partition fails the job with Slurm's message; a task that keeps
// failing is requeued up to max_attempts and the job fails with each run's state; a daemon without the
// Slurm client programs refuses to start.

import Foundation
import XCTest

final class SlurmExecutorTests: DaemonTestCase {
    private var cluster: SlurmCluster?

    override func tearDown() {
        DaemonProcess.killAll()  // the daemons first: they would otherwise resubmit while Slurm stops
        if let cluster {
            let forced = cluster.stop()
            XCTAssertEqual(forced, [], "the cluster did not stop cleanly")
        }
        cluster = nil
        super.tearDown()
    }

    /// A started cluster (stopped in tearDown, also when the test fails).
    private func startCluster() throws -> SlurmCluster {
        let cluster = try SlurmCluster()
        self.cluster = cluster
        try cluster.start()
        return cluster
    }

    /// A spool on the demo model with the Slurm executor (one CPU per task, fast polling).
    private func slurmSpool(_ name: String, executor: String = "") throws -> TestSpool {
        let spool = try makeSpool(name)
        try spool.writeConfig(
            models: [TestSpool.demoModel("demo")],
            extra: TestSpool.fastDaemon + """

                executor:
                  kind: slurm
                  partition: debug
                  cpus_per_task: 1
                  poll_seconds: 0.3
                  max_attempts: 2
                  time_limit: "10"
                  signal_margin_seconds: 60
                \(executor)
                """)
        return spool
    }

    private func job(_ label: String, seeds: [Int], steps: Int = 8) -> String {
        "version: 1\nmodel: demo\nclass: \(label)\nseeds: [\(seeds.map(String.init).joined(separator: ", "))]\n"
            + "steps: \(steps)\ncache: { interval: 2 }\n"
    }

    /// The daemon on `spool`, talking to `cluster`.
    private func daemon(_ spool: TestSpool, _ cluster: SlurmCluster, _ arguments: [String] = []) throws -> DaemonProcess
    {
        try DaemonProcess(spool, arguments: arguments, environment: cluster.environment)
    }

    /// sha256 of each output file the local renderer writes for job file `name` (same job id, one thread).
    private func localHashes(_ spool: TestSpool, _ name: String, _ text: String) throws -> [String: String] {
        let folder = spool.root.appendingPathComponent("local")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        let out = folder.appendingPathComponent("out-\(name)")
        let run = try SkipditBinary.run(["render", file.path, "--config", spool.config.path, "--output", out.path])
        XCTAssertEqual(run.status, 0, run.output)
        var hashes: [String: String] = [:]
        for item in try FileManager.default.contentsOfDirectory(atPath: out.path) where item.hasSuffix(".mp4") {
            hashes[item] = try sha256(out.appendingPathComponent(item))
        }
        return hashes
    }

    private func outputHashes(_ spool: TestSpool, prefix: String) throws -> [String: String] {
        var hashes: [String: String] = [:]
        for item in try FileManager.default.contentsOfDirectory(atPath: spool.output.path)
        where item.hasPrefix(prefix) && item.hasSuffix(".mp4") {
            hashes[item] = try sha256(spool.output.appendingPathComponent(item))
        }
        return hashes
    }

    /// The arrays Slurm knows by job name (queued, running or finished).
    private func arrays(named name: String, _ cluster: SlurmCluster) throws -> Set<String> {
        let listing = try cluster.run(["squeue", "-h", "--states=all", "--array", "-n", name, "-o", "%F"])
        XCTAssertEqual(listing.status, 0, listing.output)
        return Set(listing.output.split(separator: "\n").map(String.init))
    }

    func testJobsBecomeArraysWhoseVideosMatchLocalRenders() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-batch", executor: "  max_in_flight: 4")
        let jobs = [("alpha.yaml", job("left", seeds: [1, 2, 3])), ("beta.yaml", job("grow", seeds: [5, 6]))]
        for (name, text) in jobs { try spool.submit(name, text) }
        let daemon = try daemon(spool, cluster)
        try waitUntil("both jobs done", timeout: 180) { spool.list("done").count == 2 || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["alpha", "beta"], daemon.logText)
        // Tracked side by side, the two arrays share max_in_flight: their throttles (%K) add up to 4.
        let throttles = daemon.logText.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains("submitted Slurm array"), let range = line.range(of: "at most ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        XCTAssertEqual(throttles.count, 2, daemon.logText)
        XCTAssertEqual(throttles.reduce(0, +), 4, daemon.logText)
        for (name, text) in jobs {
            let id = String(name.dropLast(5))
            XCTAssertEqual(try outputHashes(spool, prefix: id + "-"), try localHashes(spool, name, text), id)
            let result = spool.result("done", id)
            XCTAssertTrue(result.contains("slurm:"), result)
            XCTAssertTrue(result.contains("name: skipdit-\(id)"), result)
            XCTAssertFalse(result.contains("attempts: 2"), result)
            XCTAssertEqual(try arrays(named: "skipdit-\(id)", cluster).count, 1)
        }
        // One array per job, one task per video, the job id in the comment.
        let listing = try cluster.run(["squeue", "-h", "--states=all", "--array", "-o", "%j|%k|%K"])
        let lines = listing.output.split(separator: "\n").map(String.init).sorted()
        XCTAssertEqual(lines.count, 5, listing.output)
        XCTAssertTrue(
            lines.allSatisfy {
                $0.hasPrefix("skipdit-alpha|skipdit:alpha:") || $0.hasPrefix("skipdit-beta|skipdit:beta:")
            }, listing.output)
        XCTAssertTrue(try cluster.squeueEmpty())
    }

    func testRequeuedAndPreemptedTasksResumeToTheSameVideos() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-requeue")
        let text = job("right", seeds: [3, 4, 9], steps: 10)
        try spool.submit("gamma.yaml", text)
        // What a run killed while it wrote video 1 (seed 3) would have left: its next run removes it.
        try FileManager.default.createDirectory(at: spool.output, withIntermediateDirectories: true)
        let stale = spool.output.appendingPathComponent(".gamma-3.mp4.4242.1f.tmp")
        try Data("partial".utf8).write(to: stale)
        let daemon = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        let processing = spool.spool.appendingPathComponent("processing/gamma")
        // Both tasks well into their render: their progress files say step >= 3.
        func step(_ video: Int) -> Int {
            let url = processing.appendingPathComponent("video-\(video).progress.json")
            guard let data = try? Data(contentsOf: url),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return 0 }
            return (object["step"] as? Int) ?? 0
        }
        try waitUntil("videos 1 and 2 at step 3", timeout: 120) { step(1) >= 3 && step(2) >= 3 }
        let array = try XCTUnwrap(try arrays(named: "skipdit-gamma", cluster).first)
        let requeue = try cluster.run(["scontrol", "requeue", "\(array)_1"])
        XCTAssertEqual(requeue.status, 0, requeue.output)
        let usr1 = try cluster.run(["scancel", "--batch", "--signal=USR1", "\(array)_2"])
        XCTAssertEqual(usr1.status, 0, usr1.output)
        try waitUntil("the job done", timeout: 180) { !spool.list("done").isEmpty || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["gamma"], daemon.logText)
        XCTAssertEqual(try outputHashes(spool, prefix: "gamma-"), try localHashes(spool, "gamma.yaml", text))
        let folder = spool.spool.appendingPathComponent("done/gamma")
        for video in [1, 2] {
            let log = try String(
                contentsOf: folder.appendingPathComponent("slurm-\(array)_\(video).out"), encoding: .utf8)
            XCTAssertTrue(log.contains("restart 1"), log)
            XCTAssertTrue(log.contains("resuming at step"), log)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "a partial output was left")
        let preempted = try String(contentsOf: folder.appendingPathComponent("slurm-\(array)_2.out"), encoding: .utf8)
        XCTAssertTrue(preempted.contains("requeued"), preempted)
    }

    func testHoldKeepsTheTasksHeldInSlurmAndReleaseResumesThemToTheSameVideos() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-hold")
        let text = job("right", seeds: [3, 4], steps: 10)
        try spool.submit("delta.yaml", text)
        let daemon = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        let progress = spool.spool.appendingPathComponent("processing/delta/video-1.progress.json")
        try waitUntil("video 1 at step 3", timeout: 120) {
            guard let data = try? Data(contentsOf: progress),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return false }
            return ((object["step"] as? Int) ?? 0) >= 3
        }
        let hold = try spool.command(["hold", "delta", "--wait", "60"])
        XCTAssertEqual(hold.status, 0, hold.output)
        XCTAssertTrue(daemon.logText.contains("held: Slurm array"), daemon.logText)
        let array = try XCTUnwrap(try arrays(named: "skipdit-delta", cluster).first)
        // No task runs while the job is held: the running one was requeued held, the pending one held.
        func states() -> String {
            (try? cluster.run(["squeue", "-h", "--array", "-n", "skipdit-delta", "-o", "%T %r"]).output) ?? "RUNNING"
        }
        try waitUntil("no task running", timeout: 60) {
            !states().contains("RUNNING") && !states().contains("COMPLETING")
        }
        XCTAssertTrue(states().lowercased().contains("held"), states())
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(spool.list("done"), [])
        XCTAssertTrue(states().lowercased().contains("held"), states())

        let release = try spool.command(["release", "delta"])
        XCTAssertEqual(release.status, 0, release.output)
        try waitUntil("the job done", timeout: 180) { !spool.list("done").isEmpty || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["delta"], daemon.logText)
        XCTAssertTrue(daemon.logText.contains("released: Slurm array"), daemon.logText)
        XCTAssertEqual(try outputHashes(spool, prefix: "delta-"), try localHashes(spool, "delta.yaml", text))
        let log = try String(
            contentsOf: spool.spool.appendingPathComponent("done/delta/slurm-\(array)_1.out"), encoding: .utf8)
        XCTAssertTrue(log.contains("resuming at step"), log)
    }

    func testADaemonKilledAfterSbatchAdoptsTheArrayInsteadOfSubmittingAgain() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-adopt")
        let text = job("up", seeds: [1, 2])
        try spool.submit("delta.yaml", text)
        let first = try daemon(spool, cluster, ["--test-step-delay", "0.2", "--test-crash-after-submit"])
        XCTAssertNotNil(first.waitForExit(timeout: 60), "the daemon did not die after its submission")
        XCTAssertEqual(first.process.terminationReason, .uncaughtSignal, first.logText)
        XCTAssertEqual(try arrays(named: "skipdit-delta", cluster).count, 1)
        let second = try daemon(spool, cluster, ["--test-step-delay", "0.2"])
        try waitUntil("the job done", timeout: 180) { !spool.list("done").isEmpty || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["delta"], second.logText)
        XCTAssertTrue(second.logText.contains("adopted Slurm array"), second.logText)
        XCTAssertEqual(try arrays(named: "skipdit-delta", cluster).count, 1, "submitted twice")
        XCTAssertEqual(try outputHashes(spool, prefix: "delta-"), try localHashes(spool, "delta.yaml", text))

        // Killed while tracking (the answer recorded): the next daemon goes on with the same array.
        try spool.submit("epsilon.yaml", job("down", seeds: [7, 8], steps: 12))
        try waitUntil("epsilon submitted", timeout: 60) {
            (try? self.arrays(named: "skipdit-epsilon", cluster).count) == 1
        }
        second.signal(SIGKILL)
        _ = second.waitForExit(timeout: 10)
        let third = try daemon(spool, cluster, ["--test-step-delay", "0.2"])
        try waitUntil("epsilon done", timeout: 180) { spool.list("done").count == 2 || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["delta", "epsilon"], third.logText)
        XCTAssertEqual(try arrays(named: "skipdit-epsilon", cluster).count, 1, "submitted twice")
    }

    func testAnArrayTheControllerForgotIsSubmittedAgainForTheMissingVideos() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-forgot")
        let text = job("bounce", seeds: [2, 5], steps: 10)
        try spool.submit("lambda.yaml", text)
        let first = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        try waitUntil("lambda submitted", timeout: 60) {
            (try? self.arrays(named: "skipdit-lambda", cluster).count) == 1
        }
        XCTAssertEqual(first.stop(), 0, first.logText)  // released; its array keeps running
        let array = try XCTUnwrap(try arrays(named: "skipdit-lambda", cluster).first)
        // The controller forgets an array that ended longer ago than MinJobAge; here the record names
        // one it never had, after the real one was cancelled mid-render.
        XCTAssertEqual(try cluster.run(["scancel", array]).status, 0)
        try cluster.waitUntil(timeout: 30, "the array cancelled") { try cluster.squeueEmpty() }
        let url = spool.spool.appendingPathComponent("processing/lambda/slurm.json")
        var record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        record["arrays"] = [999999]
        try JSONSerialization.data(withJSONObject: record).write(to: url)
        let second = try daemon(spool, cluster, ["--test-step-delay", "0.1"])
        try waitUntil("lambda done", timeout: 180) { !spool.list("done").isEmpty || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["lambda"], second.logText)
        let result = spool.result("done", "lambda")
        XCTAssertTrue(result.contains("array 999999 is no longer known to the controller"), result)
        XCTAssertEqual(try arrays(named: "skipdit-lambda", cluster).count, 2)
        XCTAssertEqual(try outputHashes(spool, prefix: "lambda-"), try localHashes(spool, "lambda.yaml", text))
    }

    func testADamagedRecordAdoptsTheLiveArrayByName() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-damaged")
        let text = job("grow", seeds: [4, 6], steps: 10)
        try spool.submit("mu.yaml", text)
        let first = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        try waitUntil("mu submitted", timeout: 60) { (try? self.arrays(named: "skipdit-mu", cluster).count) == 1 }
        first.signal(SIGKILL)
        _ = first.waitForExit(timeout: 10)
        let url = spool.spool.appendingPathComponent("processing/mu/slurm.json")
        try Data("{\"videos\": [{\"number\": 999999}]}".utf8).write(to: url)
        let second = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        try waitUntil("mu done", timeout: 180) { !spool.list("done").isEmpty || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["mu"], second.logText)
        XCTAssertTrue(second.logText.contains("adopted Slurm array"), second.logText)
        XCTAssertEqual(try arrays(named: "skipdit-mu", cluster).count, 1, "submitted twice")
        XCTAssertEqual(try outputHashes(spool, prefix: "mu-"), try localHashes(spool, "mu.yaml", text))
    }

    func testAnUnreachableControllerIsWaitedForAndLosesNothing() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-unreachable")
        let text = job("up", seeds: [3, 8], steps: 12)
        try spool.submit("nu.yaml", text)
        let daemon = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        try waitUntil("nu submitted", timeout: 60) { (try? self.arrays(named: "skipdit-nu", cluster).count) == 1 }
        try cluster.stopController()
        try waitUntil("the daemon to notice", timeout: 60) { daemon.logText.contains("Slurm is unreachable") }
        Thread.sleep(forTimeInterval: 3)  // several polls without a controller
        XCTAssertEqual(spool.list("processing"), ["nu"], "the job must wait in processing/")
        XCTAssertEqual(spool.list("failed"), [])
        try cluster.restartController()
        try waitUntil("nu done", timeout: 180) { !spool.list("done").isEmpty || !spool.list("failed").isEmpty }
        XCTAssertEqual(spool.list("done"), ["nu"], daemon.logText)
        XCTAssertEqual(try arrays(named: "skipdit-nu", cluster).count, 1, "submitted twice")
        XCTAssertEqual(try outputHashes(spool, prefix: "nu-"), try localHashes(spool, "nu.yaml", text))
    }

    func testCancelEmptiesTheQueueAndFailsTheJob() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-cancel")
        try spool.submit("zeta.yaml", job("shrink", seeds: [1, 2, 3], steps: 40))
        let daemon = try daemon(spool, cluster, ["--test-step-delay", "0.3"])
        try waitUntil("zeta running", timeout: 60) {
            spool.text("processing", "zeta", "slurm.json")?.contains("RUNNING") ?? false
        }
        let status = try spool.command(["status"])
        let array = try XCTUnwrap(try arrays(named: "skipdit-zeta", cluster).first)
        XCTAssertTrue(status.output.contains("slurm array \(array) (squeue -n skipdit-zeta)"), status.output)
        XCTAssertTrue(status.output.contains("video 1"), status.output)
        XCTAssertTrue(status.output.contains("(task \(array)_1)"), status.output)
        let cancel = try spool.command(["cancel", "zeta", "--wait", "60"])
        XCTAssertEqual(cancel.status, 0, cancel.output + daemon.logText)
        XCTAssertEqual(spool.list("failed"), ["zeta"])
        XCTAssertEqual(Records.value("reason", in: spool.result("failed", "zeta")), "cancelled")
        XCTAssertTrue(try cluster.squeueEmpty(), "tasks left in squeue after skipdit cancel")
    }

    func testBadPartitionFailsTheJobWithSlurmsMessage() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-partition")
        try spool.writeConfig(
            models: [TestSpool.demoModel("demo")],
            extra: TestSpool.fastDaemon + "\nexecutor: { kind: slurm, partition: nosuch, poll_seconds: 0.3 }\n")
        try spool.submit("eta.yaml", job("left", seeds: [1]))
        let daemon = try daemon(spool, cluster)
        try waitUntil("eta failed", timeout: 60) { !spool.list("failed").isEmpty }
        let reason = Records.value("reason", in: spool.result("failed", "eta")) ?? ""
        XCTAssertTrue(reason.contains("sbatch refused the job"), reason + daemon.logText)
        XCTAssertTrue(reason.lowercased().contains("invalid partition"), reason)
    }

    func testFailingTasksAreRetriedThenTheJobFailsWithEachRunsState() throws {
        let cluster = try startCluster()
        let spool = try slurmSpool("slurm-retry")
        let broken = spool.root.appendingPathComponent("broken-skipdit")
        try Data("#!/bin/sh\necho 'skipdit slurm-task: simulated failure' >&2\nexit 3\n".utf8).write(to: broken)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: broken.path)
        try spool.writeConfig(
            models: [TestSpool.demoModel("demo")],
            extra: TestSpool.fastDaemon
                + "\nexecutor: { kind: slurm, poll_seconds: 0.3, max_attempts: 2, binary: \(broken.path) }\n")
        try spool.submit("theta.yaml", job("left", seeds: [1, 2]))
        let daemon = try daemon(spool, cluster)
        try waitUntil("theta failed", timeout: 120) { !spool.list("failed").isEmpty || !spool.list("done").isEmpty }
        XCTAssertEqual(spool.list("failed"), ["theta"], daemon.logText)
        let result = spool.result("failed", "theta")
        let reason = Records.value("reason", in: result) ?? ""
        XCTAssertTrue(reason.contains("video 1: FAILED") && reason.contains("video 2: FAILED"), reason)
        XCTAssertTrue(reason.contains("simulated failure"), reason)
        XCTAssertEqual(result.components(separatedBy: "attempts: 2").count - 1, 2, result)
        XCTAssertEqual(result.components(separatedBy: "exit_code:").count - 1, 4, result)
        XCTAssertTrue(try cluster.squeueEmpty())
    }

    /// A stand-in for skipdit on a node that sees other paths: it runs the real binary with `override`
    /// appended (a repeated option's last value wins).
    private func nodeView(_ spool: TestSpool, _ override: [String]) throws -> URL {
        let wrapper = spool.root.appendingPathComponent("node-skipdit")
        let binary = try SkipditBinary.require().path
        let extra = override.map { "'\($0)'" }.joined(separator: " ")
        try Data("#!/bin/sh\nexec '\(binary)' \"$@\" \(extra)\n".utf8).write(to: wrapper)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
        return wrapper
    }

    /// Runs job `id` (one video) with `binary` as skipdit on the node and one attempt; returns the reason
    /// it failed with.
    private func failureReason(_ spool: TestSpool, _ cluster: SlurmCluster, _ id: String, binary: URL) throws -> String
    {
        try spool.writeConfig(
            models: [TestSpool.demoModel("demo")],
            extra: TestSpool.fastDaemon
                + "\nexecutor: { kind: slurm, poll_seconds: 0.3, max_attempts: 1, binary: \(binary.path) }\n")
        try spool.submit("\(id).yaml", job("left", seeds: [1]))
        let daemon = try daemon(spool, cluster)
        defer { daemon.stop() }
        try waitUntil("\(id) failed", timeout: 90) { !spool.list("failed").isEmpty || !spool.list("done").isEmpty }
        XCTAssertEqual(spool.list("failed"), [id], daemon.logText)
        return Records.value("reason", in: spool.result("failed", id)) ?? ""
    }

    func testANodeThatCannotSeeTheSpoolOrAModelFailsTheTaskNamingThePath() throws {
        let cluster = try startCluster()
        // The spool: the task is pointed at a job folder the node does not have.
        let spool = try slurmSpool("slurm-nospool")
        let missingSpool = "/nonexistent/spool/processing/iota"
        let reason = try failureReason(
            spool, cluster, "iota", binary: try nodeView(spool, ["--job-dir", missingSpool]))
        XCTAssertTrue(reason.contains("exit 66 (the node cannot see the job's spool folder)"), reason)
        XCTAssertTrue(reason.contains(missingSpool), reason)

        // A model: the node's configuration names a checkpoint that is not there.
        let other = try slurmSpool("slurm-nomodel")
        let missingModel = "/nonexistent/models/latte-demo.pt"
        let nodeConfig = other.root.appendingPathComponent("node.yaml")
        let text = try String(contentsOf: other.config, encoding: .utf8)
        let modelLine = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("checkpoint:") })
        try Data(text.replacingOccurrences(of: String(modelLine), with: "    checkpoint: \(missingModel)").utf8)
            .write(to: nodeConfig)
        let modelReason = try failureReason(
            other, cluster, "kappa", binary: try nodeView(other, ["--config", nodeConfig.path]))
        XCTAssertTrue(modelReason.contains("exit 69 (a model file is missing or unreadable on the node)"), modelReason)
        XCTAssertTrue(modelReason.contains(missingModel), modelReason)
    }

    func testSlurmModeWithoutTheSlurmClientRefusesToStart() throws {
        let spool = try slurmSpool("slurm-missing")
        let empty = spool.root.appendingPathComponent("empty-path")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let run = try SkipditBinary.run(
            ["serve", "--config", spool.config.path], environment: ["PATH": empty.path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("the Slurm client 'sbatch' is not installed"), run.output)
    }
}
