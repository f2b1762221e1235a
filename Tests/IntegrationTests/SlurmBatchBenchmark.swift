// SlurmBatchBenchmark: the README's measured figure for the Slurm executor — the wall time of one batch
// of demo-model jobs rendered by a local daemon (all cores, one job at a time) and by a daemon on the
// private test cluster (one CPU per task, as many tasks at once as the node has cores), in one run on
// one machine. A benchmark, not a test: it runs only under `make bench-slurm` (SKIPDIT_BENCH_SLURM=1)
// and asserts nothing about speed; it prints the figures.

import Foundation
import XCTest

final class SlurmBatchBenchmark: DaemonTestCase {
    private static let jobs = 4
    private static let seeds = [1, 2, 3]

    private func batch(_ spool: TestSpool) throws {
        let classes = ["left", "right", "grow", "bounce"]
        for i in 0..<Self.jobs {
            try spool.submit(
                "batch\(i).yaml",
                "version: 1\nmodel: demo\nclass: \(classes[i % classes.count])\nseeds: \(Self.seeds)\nsteps: 12\n")
        }
    }

    /// Seconds from the daemon's start until every job is in done/.
    private func time(_ spool: TestSpool, environment: [String: String] = [:]) throws -> Double {
        let start = Date()
        let daemon = try DaemonProcess(spool, environment: environment)
        try waitUntil("the batch done", timeout: 1800) {
            spool.list("done").count == Self.jobs || !spool.list("failed").isEmpty
        }
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(spool.list("done").count, Self.jobs, daemon.logText)
        daemon.stop()
        return seconds
    }

    func testBatchWallTimeLocalVersusSlurm() throws {
        guard ProcessInfo.processInfo.environment["SKIPDIT_BENCH_SLURM"] == "1" else {
            throw XCTSkip("a benchmark: run it with `make bench-slurm`")
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let local = try makeSpool("bench-local")
        try local.writeConfig(models: [TestSpool.demoModel("demo")], threads: 0)
        try batch(local)
        let localSeconds = try time(local)

        let cluster = try SlurmCluster(cpus: cores)
        defer { cluster.stop() }
        try cluster.start()
        let slurm = try makeSpool("bench-slurm")
        try slurm.writeConfig(
            models: [TestSpool.demoModel("demo")], threads: 1,
            extra: TestSpool.fastDaemon + "\nexecutor: { kind: slurm, cpus_per_task: 1, poll_seconds: 1 }\n")
        try batch(slurm)
        let slurmSeconds = try time(slurm, environment: cluster.environment)
        let videos = Self.jobs * Self.seeds.count
        print(
            String(
                format: "bench-slurm: %d jobs, %d videos (demo model, 12 DDIM steps), %d cores: local daemon %.1f s, "
                    + "slurm (1 CPU per task, %d tasks at once) %.1f s, ratio local/slurm %.2f",
                Self.jobs, videos, cores, localSeconds, cores, slurmSeconds, localSeconds / slurmSeconds))
    }
}
