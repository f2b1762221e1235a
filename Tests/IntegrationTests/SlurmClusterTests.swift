// SlurmClusterTests: the smoke test of the private Slurm cluster (SlurmCluster.swift) that the Slurm
// executor's tests run on. It proves what those tests rely on: an array job runs every task, finished jobs
// stay visible to `scontrol show job`, `scancel --batch --signal=USR1` reaches a running batch shell at
// once (the deterministic signal the preemption tests use), and stop() leaves nothing running, not even a
// still-running job or a finished job's orphaned child.

import Foundation
import XCTest

final class SlurmClusterTests: XCTestCase {
    /// The cluster of the running test; tearDown stops it even when the test failed.
    private var cluster: SlurmCluster?

    override func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    func testClusterRunsJobsDeliversSignalsAndStopsCleanly() throws {
        try XCTSkipUnless(
            SlurmCluster.isInstalled,
            "Slurm is not installed (apt-get install slurmctld slurmd slurm-client munge)")
        let started = Date()
        let cluster = try SlurmCluster()
        self.cluster = cluster
        try cluster.start()
        let root = cluster.root.path

        // An array job: every task runs and writes its own output file.
        let arrayJob = try submit(
            cluster,
            ["--array=0-2", "--output=\(root)/out-%A_%a.txt", "--wrap", "echo task $SLURM_ARRAY_TASK_ID"])
        try cluster.waitUntil(timeout: 30, "array job \(arrayJob) to finish") { try cluster.squeueEmpty() }
        for task in 0...2 {
            let output = try String(contentsOfFile: "\(root)/out-\(arrayJob)_\(task).txt", encoding: .utf8)
            XCTAssertEqual(output, "task \(task)\n")
        }
        try assertState(cluster, "\(arrayJob)_1", "COMPLETED")

        // A signal to the batch shell: its trap writes a marker and ends the job. The marker is renamed
        // into place, so the test never reads it between the shell's create and its write.
        let script = """
            #!/bin/bash
            trap 'echo "got USR1" > usr1-marker.tmp; mv usr1-marker.tmp usr1-marker.txt; kill "$child"; exit 0' USR1
            sleep 300 &
            child=$!
            echo ready > usr1-ready.txt
            wait "$child"

            """
        try Data(script.utf8).write(to: cluster.root.appendingPathComponent("usr1.sh"))
        let signalJob = try submit(cluster, ["--chdir=\(root)", "--output=\(root)/usr1-%j.out", "\(root)/usr1.sh"])
        try cluster.waitUntil(timeout: 30, "job \(signalJob) to set its USR1 trap") {
            FileManager.default.fileExists(atPath: "\(root)/usr1-ready.txt")
        }
        let signalled = try cluster.run(["scancel", "--batch", "--signal=USR1", signalJob])
        XCTAssertEqual(signalled.status, 0, signalled.output)
        try cluster.waitUntil(timeout: 10, "job \(signalJob) to write its USR1 marker") {
            FileManager.default.fileExists(atPath: "\(root)/usr1-marker.txt")
        }
        XCTAssertEqual(try String(contentsOfFile: "\(root)/usr1-marker.txt", encoding: .utf8), "got USR1\n")
        try cluster.waitUntil(timeout: 15, "job \(signalJob) to end") { try cluster.squeueEmpty() }
        try assertState(cluster, signalJob, "COMPLETED")

        // stop() with a job still running and a finished job's orphaned child: nothing may survive.
        let orphanJob = try submit(
            cluster, ["--output=\(root)/orphan.out", "--wrap", "sleep 300 & echo spawned"])
        let runningJob = try submit(cluster, ["--output=/dev/null", "--wrap", "sleep 300"])
        let conf = "SLURM_CONF=" + cluster.configFile.path
        try cluster.waitUntil(timeout: 30, "job \(orphanJob) to end and job \(runningJob) to run") {
            let running = try cluster.run(["squeue", "-h", "-t", "R", "-o", "%i"]).output
            let queued = try cluster.run(["squeue", "-h", "-o", "%i"]).output
            return queued.trimmingCharacters(in: .whitespacesAndNewlines) == runningJob
                && running.trimmingCharacters(in: .whitespacesAndNewlines) == runningJob
        }
        let sleeps = SlurmCluster.ProcFS.livePIDs(withEnvironmentEntry: conf).filter {
            SlurmCluster.ProcFS.name($0) == "sleep"
        }
        XCTAssertEqual(sleeps.count, 2, "the orphan and the running job's sleep")

        let stopping = Date()
        let forced = cluster.stop()
        let stopSeconds = Date().timeIntervalSince(stopping)
        XCTAssertEqual(SlurmCluster.ProcFS.livePIDs(withEnvironmentEntry: conf), [], "processes of the cluster")
        XCTAssertEqual(
            liveChildren(named: ["slurmctld", "slurmd", "munged"]), [], "daemons of the test")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root), "the cluster's directory")
        // Only the orphan needed a SIGKILL; the daemons and the running job stopped by themselves.
        XCTAssertEqual(forced.count, 1, forced.joined(separator: "\n"))
        XCTAssertTrue(forced.allSatisfy { $0.hasPrefix("SIGKILL leftover sleep") }, forced.joined(separator: "\n"))
        XCTAssertEqual(cluster.stop(), [], "a second stop does nothing")
        print(
            "SlurmClusterTests: \(String(format: "%.1f", Date().timeIntervalSince(started))) s in all, stop "
                + "\(String(format: "%.1f", stopSeconds)) s; forced: \(forced)")
    }

    /// Live (not zombie) children of the test process whose name is one of `names`.
    private func liveChildren(named names: Set<String>) -> [Int32] {
        let me = String(ProcessInfo.processInfo.processIdentifier)
        return SlurmCluster.ProcFS.pids().filter { pid in
            guard let fields = SlurmCluster.ProcFS.status(pid), fields["PPid"] == me, let name = fields["Name"]
            else { return false }
            return names.contains(name) && !SlurmCluster.ProcFS.isGone(pid)
        }
    }

    /// sbatch --parsable with `arguments`; returns the job id.
    private func submit(_ cluster: SlurmCluster, _ arguments: [String]) throws -> String {
        let result = try cluster.run(["sbatch", "--parsable"] + arguments)
        let job = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, Int(job) != nil else {
            throw SlurmClusterError("sbatch \(arguments) failed: \(result.output)\n\(cluster.logTails)")
        }
        return job
    }

    /// Asserts that `scontrol show job` reports `state` for `job`.
    private func assertState(
        _ cluster: SlurmCluster, _ job: String, _ state: String, line: UInt = #line
    ) throws {
        let shown = try cluster.run(["scontrol", "show", "job", job])
        XCTAssertTrue(shown.output.contains("JobState=\(state) "), shown.output, line: line)
    }
}
