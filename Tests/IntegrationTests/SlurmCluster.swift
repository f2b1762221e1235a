// SlurmCluster: a private, single-node Slurm cluster that a test starts for itself, so that the daemon's
// Slurm executor runs against a real Slurm. Everything lives in one temporary directory: a private munged
// (its own key and socket), slurmctld and slurmd in the foreground as children of the test process, ports
// the kernel picked, and a slurm.conf that clients find through SLURM_CONF. Nothing under /etc is read or
// written, no systemd is needed, and two clusters can run side by side.
//
// The facts behind each setting (Slurm 22.05.8 and munge 0.5.15 on Debian bookworm) were measured in
// ../shared/slurm/NOTES.md; "pitfall N" below refers to its list.
//
// Life cycle: `init` writes the directory, the munge key and slurm.conf; `start()` launches the daemons and
// waits until the node is idle; `stop()` (also run by deinit) cancels every job, shuts Slurm down, kills
// what is left (a slurmstepd ignores SIGTERM, and a job's orphaned children outlive the cluster), then
// removes the directory.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failure of the test cluster (a daemon that did not start, a client that hung, a wait that timed out);
/// the description carries the log tails that explain it.
struct SlurmClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

final class SlurmCluster {
    /// The temporary directory that holds the whole cluster: etc/ (slurm.conf), munge/ (key, socket),
    /// state/ (StateSaveLocation), spool/ (SlurmdSpoolDir), run/ (pid files), log/.
    let root: URL
    /// The CPUs the node offers: `nproc`, or the number the test asked for (may exceed the hardware).
    let cpus: Int
    /// The node's name, `hostname -s`: slurmd only serves the NodeName that equals it (pitfall 12).
    let nodeName: String

    /// slurm.conf. A test may append lines to it before `start()` (not after: pitfall 13).
    var configFile: URL { root.appendingPathComponent("etc/slurm.conf") }

    /// What a Slurm client (sbatch, squeue, scontrol, scancel, or the daemon under test) needs in its
    /// environment to reach this cluster.
    var environment: [String: String] { ["SLURM_CONF": configFile.path] }

    /// The daemons this cluster started, in start order (munged, slurmctld, slurmd).
    private var daemons: [Daemon] = []
    /// Set by the first `stop()`, which makes the later ones (tearDown, then deinit) do nothing.
    private var stopped = false

    /// True when the Debian packages slurmctld, slurmd, slurm-client and munge are installed, so that a
    /// test can skip on a machine without Slurm.
    static var isInstalled: Bool {
        ["/usr/sbin/munged", "/usr/sbin/mungekey", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"]
            .allSatisfy(FileManager.default.isExecutableFile(atPath:))
    }

    // MARK: - Setting up the directory

    /// Creates the cluster's directory, its munge key and its slurm.conf; starts nothing (`start()` does).
    /// `cpus` overrides the CPU count the node offers (default: `nproc`).
    init(cpus: Int? = nil) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slurm-\(UUID().uuidString.prefix(8).lowercased())")
        do {
            try Self.makeDirectories(root)
            // Facts about this machine that slurm.conf must match.
            let nodeName = try Self.output(of: "/usr/bin/hostname", ["-s"], scratch: root)
            let cpuCount = try cpus ?? Self.processorCount(scratch: root)
            let memory = try Self.usableMemory(scratch: root)
            let user = try Self.output(of: "/usr/bin/id", ["-un"], scratch: root)
            let ports = try FreePorts.pick(2)
            let config = Self.configuration(
                root: root, node: nodeName, user: user, cpus: cpuCount, memoryMB: memory,
                controllerPort: ports[0], nodePort: ports[1])
            try Data(config.utf8).write(to: root.appendingPathComponent("etc/slurm.conf"))
            // The private munge key (mode 0600), which only this cluster's munged reads.
            _ = try Self.output(
                of: "/usr/sbin/mungekey", ["-c", "-k", root.appendingPathComponent("munge/munge.key").path],
                scratch: root)
            self.root = root
            self.nodeName = nodeName
            self.cpus = cpuCount
        } catch {
            try? FileManager.default.removeItem(at: root)
            throw error
        }
    }

    deinit { stop() }

    /// The directory tree, mode 0755 throughout: munged refuses a socket in a directory that not everyone
    /// can search (pitfall 1). Ancestors ($TMPDIR) only gain missing execute bits and keep the rest (such
    /// as /tmp's sticky bit).
    private static func makeDirectories(_ root: URL) throws {
        let files = FileManager.default
        let subdirectories = ["etc", "munge", "state", "spool", "run", "log"].map { root.appendingPathComponent($0) }
        for directory in [root] + subdirectories {
            try files.createDirectory(at: directory, withIntermediateDirectories: true)
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        }
        var ancestor = root.deletingLastPathComponent()
        while ancestor.pathComponents.count > 1 {
            let mode = (try files.attributesOfItem(atPath: ancestor.path)[.posixPermissions] as? Int) ?? 0o755
            if mode & 0o111 != 0o111 {
                try files.setAttributes([.posixPermissions: mode | 0o111], ofItemAtPath: ancestor.path)
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
    }

    /// `nproc`: the CPUs this process may use.
    private static func processorCount(scratch: URL) throws -> Int {
        let text = try output(of: "/usr/bin/nproc", [], scratch: scratch)
        guard let count = Int(text), count > 0 else { throw SlurmClusterError("nproc printed \(text)") }
        return count
    }

    /// 90% of the RealMemory that `slurmd -C` reports (in MB): a node configured with more memory than
    /// slurmd finds is drained (pitfall 12).
    private static func usableMemory(scratch: URL) throws -> Int {
        let text = try output(of: "/usr/sbin/slurmd", ["-C"], scratch: scratch)
        let field = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("RealMemory=") }
        guard let field, let megabytes = Int(field.dropFirst("RealMemory=".count)), megabytes > 0 else {
            throw SlurmClusterError("`slurmd -C` reported no RealMemory:\n\(text)")
        }
        return max(1, megabytes * 9 / 10)
    }

    /// The minimal slurm.conf measured in NOTES.md, every path under `root`. Two additions:
    /// `SlurmdParameters=config_overrides` lets `cpus` exceed the hardware (slurmd would otherwise mark the
    /// node INVAL with "Low CPUs"), and the ports are the kernel's free ones.
    private static func configuration(
        root: URL, node: String, user: String, cpus: Int, memoryMB: Int, controllerPort: Int, nodePort: Int
    ) -> String {
        func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
        return """
            # A private single-node test cluster (Tests/IntegrationTests/SlurmCluster.swift).
            ClusterName=localtest
            SlurmctldHost=\(node)(127.0.0.1)
            SlurmctldPort=\(controllerPort)
            SlurmdPort=\(nodePort)
            SlurmUser=\(user)
            SlurmdUser=\(user)
            # A private munged; cred_expire=5 is the minimum and sets how long a requeued job waits (pitfall 2).
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket=\(path("munge/munge.sock")),cred_expire=5
            StateSaveLocation=\(path("state"))
            SlurmdSpoolDir=\(path("spool"))
            SlurmctldPidFile=\(path("run/slurmctld.pid"))
            SlurmdPidFile=\(path("run/slurmd.pid"))
            SlurmctldLogFile=\(path("log/slurmctld.log"))
            SlurmdLogFile=\(path("log/slurmd.log"))
            MailProg=/bin/true
            # No cgroups: linuxproc tracks job processes (faster here than pgid, pitfall 5).
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            # No slurmdbd: `sacct -c` reads the job completion file instead (pitfall 3).
            AccountingStorageType=accounting_storage/none
            JobAcctGatherType=jobacct_gather/none
            JobCompType=jobcomp/filetxt
            JobCompLoc=\(path("log/jobcomp.txt"))
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            MpiDefault=none
            # Schedule every 2 s and backfill every 1 s, so queued jobs start quickly.
            SchedulerType=sched/backfill
            SchedulerParameters=sched_interval=2,bf_interval=1
            ReturnToService=2
            SlurmdParameters=config_overrides
            # Keep finished jobs for `scontrol show job` for an hour; SIGKILL 5 s after SIGTERM.
            MinJobAge=3600
            KillWait=5
            InactiveLimit=0
            # Jobs in `urgent` preempt (requeue) jobs in `debug`.
            PreemptType=preempt/partition_prio
            PreemptMode=REQUEUE
            NodeName=\(node) NodeAddr=127.0.0.1 CPUs=\(cpus) RealMemory=\(memoryMB) State=UNKNOWN
            PartitionName=debug Nodes=\(node) Default=YES MaxTime=INFINITE State=UP PriorityTier=1
            PartitionName=urgent Nodes=\(node) MaxTime=INFINITE State=UP PriorityTier=10 PreemptMode=OFF

            """
    }

    // MARK: - Starting

    /// Starts munged, slurmctld and slurmd and waits (at most 30 s) until `sinfo` shows the node idle.
    /// On failure it stops what it started and throws an error with the daemons' log tails.
    func start() throws {
        guard daemons.isEmpty, !stopped else { throw SlurmClusterError("a SlurmCluster starts only once") }
        do {
            func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
            try launch(
                "munged", "/usr/sbin/munged",
                [
                    "-F", "--socket=\(path("munge/munge.sock"))", "--key-file=\(path("munge/munge.key"))",
                    "--pid-file=\(path("run/munged.pid"))", "--seed-file=\(path("munge/munge.seed"))",
                    "--log-file=\(path("log/munged.log"))",
                ])
            try waitUntil(timeout: 10, "munged to open its socket") {
                try requireDaemonsRunning()
                return FileManager.default.fileExists(atPath: path("munge/munge.sock"))
            }
            try launch("slurmctld", "/usr/sbin/slurmctld", ["-D"])
            try launch("slurmd", "/usr/sbin/slurmd", ["-D"])
            try waitUntil(timeout: 30, "node \(nodeName) to be idle") {
                try requireDaemonsRunning()
                return try nodeIsIdle()
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Starts one daemon in the foreground as a child of this process, its stdout and stderr in
    /// log/<name>.out (where a daemon's errors land before it opens its log file).
    private func launch(_ name: String, _ executable: String, _ arguments: [String]) throws {
        let output = root.appendingPathComponent("log/\(name).out").path
        daemons.append(try Daemon(name, executable, arguments, environment: clientEnvironment, output: output))
    }

    /// Throws, with the logs, if a daemon has exited: a bad config fails fast instead of at the deadline.
    private func requireDaemonsRunning() throws {
        for daemon in daemons where daemon.hasExited() {
            // munged's errors are in its own output; slurmctld's and slurmd's are in logTails.
            let munged = root.appendingPathComponent("log/munged.out")
            let output = daemon.name == "munged" ? "--- munged.out ---\n\(Self.tail(of: munged, lines: 40))\n" : ""
            throw SlurmClusterError(
                "\(daemon.name) \(daemon.exitDescription) while the cluster started\n\(output)\(logTails)")
        }
    }

    /// True when sinfo lists the node as idle in every partition (it lists the node once per partition).
    private func nodeIsIdle() throws -> Bool {
        let result = try run(["sinfo", "-h", "-N", "-o", "%T"])
        let states = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return result.status == 0 && !states.isEmpty && states.allSatisfy { $0 == "idle" }
    }

    // MARK: - Using the cluster

    /// This process's environment without Slurm's client settings (SLURM_*, SBATCH_*, SQUEUE_*…), which
    /// would point clients at another cluster or change their output format if the tests ran under Slurm.
    private static let inheritedEnvironment: [String: String] = {
        let prefixes = [
            "SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SINFO_", "SCANCEL_", "SACCT_", "SCONTROL_",
        ]
        return ProcessInfo.processInfo.environment.filter { key, _ in !prefixes.contains { key.hasPrefix($0) } }
    }()

    /// The environment of the daemons and of `run`'s clients: the inherited one plus `environment`.
    private var clientEnvironment: [String: String] { Self.inheritedEnvironment.merging(environment) { $1 } }

    /// Runs a Slurm client (`arguments[0]` is its name, found in /usr/bin, or an absolute path) with the
    /// cluster's environment; returns its exit status and its stdout and stderr together. A client that
    /// runs longer than `timeout` is killed and reported as an error.
    func run(_ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32, output: String) {
        guard let program = arguments.first else { throw SlurmClusterError("run() needs a program name") }
        let executable = program.hasPrefix("/") ? program : "/usr/bin/" + program
        return try Self.capture(
            executable, Array(arguments.dropFirst()), environment: clientEnvironment, scratch: root, timeout: timeout)
    }

    /// Polls `condition` every 0.2 s until it is true; after `timeout` seconds throws an error that names
    /// `what` and shows the daemons' log tails. An error thrown by `condition` ends the wait at once.
    func waitUntil(timeout: TimeInterval, _ what: String, _ condition: () throws -> Bool) throws {
        guard try Self.poll(timeout: timeout, condition) else {
            throw SlurmClusterError("timed out after \(timeout) s waiting for \(what)\n\(logTails)")
        }
    }

    /// True when squeue lists no job (pending, running or completing) of any user.
    func squeueEmpty() throws -> Bool {
        let result = try run(["squeue", "-h", "-o", "%i"])
        guard result.status == 0 else { throw SlurmClusterError("squeue failed: \(result.output)\n\(logTails)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// The last 40 lines of slurmctld's and slurmd's logs, for failure messages.
    var logTails: String {
        ["slurmctld", "slurmd"].map { name in
            // The daemon's log file, or its stdout if it died before opening the log.
            let log = root.appendingPathComponent("log/\(name).log")
            let output = root.appendingPathComponent("log/\(name).out")
            let file = FileManager.default.fileExists(atPath: log.path) ? log : output
            return "--- \(file.lastPathComponent), last 40 lines ---\n\(Self.tail(of: file, lines: 40))"
        }.joined(separator: "\n")
    }

    // MARK: - The controller alone

    /// Stops slurmctld (SIGTERM; slurmd and the jobs keep running): clients get "Unable to contact slurm
    /// controller" until `restartController()`.
    func stopController() throws {
        var forced: [String] = []
        end(["slurmctld"], grace: 0, &forced)
        daemons.removeAll { $0.name == "slurmctld" && $0.hasExited() }
        guard forced.isEmpty else { throw SlurmClusterError("slurmctld did not stop: \(forced)") }
    }

    /// Starts slurmctld again (it reloads its state from StateSaveLocation) and waits until it answers.
    func restartController() throws {
        try launch("slurmctld", "/usr/sbin/slurmctld", ["-D"])
        try waitUntil(timeout: 30, "slurmctld to answer again") {
            try requireDaemonsRunning()
            return (try? run(["squeue", "-h"], timeout: 5))?.status == 0
        }
    }

    // MARK: - Stopping

    /// Cancels every job, waits (at most 15 s) for the queue to empty, shuts Slurm down, waits for
    /// slurmctld, slurmd and munged to exit (SIGKILL after a deadline), SIGKILLs every process left with this
    /// cluster's SLURM_CONF in its environment (pitfall 5), and removes the directory. Safe to call more
    /// than once and from deinit: only the first call does anything. Returns what had to be forced (a
    /// SIGKILL, a timeout), one line each; a clean stop returns an empty list unless a job left processes.
    @discardableResult
    func stop() -> [String] {
        guard !stopped else { return [] }
        stopped = true
        var forced: [String] = []
        // Jobs first: a slurmstepd whose slurmd has gone retries for ever and ignores SIGTERM.
        let controllerRunning = daemons.contains { $0.name == "slurmctld" && !$0.hasExited() }
        if controllerRunning {
            cancelAllJobs(&forced)
            let shutdown = try? run(["scontrol", "shutdown"], timeout: 10)
            if shutdown?.status != 0 { forced.append("scontrol shutdown failed: \(shutdown?.output ?? "timed out")") }
        }
        // slurmctld and slurmd exit on `scontrol shutdown`; munged serves them until they have.
        end(["slurmctld", "slurmd"], grace: controllerRunning ? 10 : 0, &forced)
        end(["munged"], grace: 0, &forced)
        killLeftovers(&forced)
        do {
            try FileManager.default.removeItem(at: root)
        } catch {
            forced.append("could not remove \(root.path): \(error)")
        }
        return forced
    }

    /// scancel every job in squeue (of any user), then waits for squeue to be empty.
    private func cancelAllJobs(_ forced: inout [String]) {
        guard let listing = try? run(["squeue", "-h", "-o", "%i"], timeout: 10), listing.status == 0 else {
            forced.append("squeue failed; jobs were not cancelled")
            return
        }
        let jobs = listing.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !jobs.isEmpty else { return }
        _ = try? run(["scancel"] + jobs, timeout: 10)
        let emptied = Self.poll(timeout: 15) { (try? squeueEmpty()) ?? true }
        if !emptied { forced.append("jobs still in squeue 15 s after scancel: \(jobs.joined(separator: " "))") }
    }

    /// Waits up to `grace` seconds for the named daemons to exit, then sends SIGTERM, and SIGKILL 5 s later.
    private func end(_ names: Set<String>, grace: TimeInterval, _ forced: inout [String]) {
        let targets = daemons.filter { names.contains($0.name) }
        if Self.poll(timeout: grace, { targets.allSatisfy { $0.hasExited() } }) { return }
        for daemon in targets { daemon.send(SIGTERM) }
        if Self.poll(timeout: 5, { targets.allSatisfy { $0.hasExited() } }) { return }
        for daemon in targets where !daemon.hasExited() {
            daemon.send(SIGKILL)
            forced.append("SIGKILL \(daemon.name) (pid \(daemon.pid))")
        }
        if !Self.poll(timeout: 5, { targets.allSatisfy { $0.hasExited() } }) {
            forced.append("daemons survived SIGKILL: \(targets.filter { !$0.hasExited() }.map(\.name))")
        }
    }

    /// SIGKILLs every process left with this cluster's SLURM_CONF in its environment: a stray slurmstepd, a
    /// job's orphaned child (Slurm sets SLURM_CONF in every job, even with --export=NONE). Repeats until a
    /// scan finds none, so that children forked meanwhile go too.
    private func killLeftovers(_ forced: inout [String]) {
        let entry = "SLURM_CONF=" + configFile.path
        var killed = Set<Int32>()
        let clean = Self.poll(timeout: 10) {
            let leftovers = ProcFS.livePIDs(withEnvironmentEntry: entry)
            for pid in leftovers {
                if !killed.contains(pid) {
                    forced.append("SIGKILL leftover \(ProcFS.name(pid) ?? "?") (pid \(pid))")
                    killed.insert(pid)
                }
                kill(pid, SIGKILL)
            }
            return leftovers.isEmpty
        }
        if !clean { forced.append("processes with \(entry) survived SIGKILL for 10 s") }
    }

    // MARK: - Helpers

    /// Calls `condition` every 0.2 s until it returns true (true) or `timeout` seconds pass (false).
    private static func poll(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return true }
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Runs a command and returns its trimmed output; a non-zero exit is an error.
    private static func output(of executable: String, _ arguments: [String], scratch: URL) throws -> String {
        let result = try capture(
            executable, arguments, environment: inheritedEnvironment, scratch: scratch, timeout: 30)
        guard result.status == 0 else {
            throw SlurmClusterError("\(executable) \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `executable` to completion with stdout and stderr going to a file under `scratch`/log, which it
    /// reads back. A file, unlike a pipe, needs no reader thread for the timeout, and nothing a command
    /// leaves behind can keep the read from ending. Kills the command after `timeout` seconds.
    private static func capture(
        _ executable: String, _ arguments: [String], environment: [String: String], scratch: URL,
        timeout: TimeInterval
    ) throws -> (status: Int32, output: String) {
        let outputURL = scratch.appendingPathComponent("log/command-\(UUID().uuidString).out")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw SlurmClusterError("cannot create \(outputURL.path) (was the cluster stopped?)")
        }
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle(forWritingTo: outputURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        let command = ([executable] + arguments).joined(separator: " ")
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            if finished.wait(timeout: .now() + 2) == .timedOut, process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                _ = finished.wait(timeout: .now() + 5)
            }
            throw SlurmClusterError(
                "`\(command)` did not finish within \(timeout) s; its output:\n\(tail(of: outputURL, lines: 40))")
        }
        let data = (try? Data(contentsOf: outputURL)) ?? Data()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The last `lines` lines of a text file, or a note that it does not exist.
    private static func tail(of file: URL, lines: Int) -> String {
        guard let data = try? Data(contentsOf: file) else { return "(no \(file.path))" }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

// MARK: - Daemons

extension SlurmCluster {
    /// A daemon of the cluster, started with posix_spawn rather than Foundation's Process. Foundation learns
    /// that a child ended when a socket the child inherited closes, and then blocks its single monitor
    /// thread in waitpid for that child. munged and slurmctld close inherited descriptors at start-up, so
    /// that thread would block until they exit, and no Process of the test (every Slurm client, the daemon
    /// under test) would be seen to finish in the meantime. Here the cluster reaps its daemons itself.
    final class Daemon {
        let name: String
        let pid: pid_t
        /// The wait status, once reaped.
        private var waitStatus: Int32?

        /// Starts `executable` with stdin from /dev/null, stdout and stderr appended to `output`, no other
        /// descriptor of this process, and default signal handling (the test process may ignore or block
        /// signals, and exec would pass that on).
        init(
            _ name: String, _ executable: String, _ arguments: [String], environment: [String: String],
            output: String
        ) throws {
            func check(_ code: Int32, _ what: String) throws {
                guard code == 0 else {
                    throw SlurmClusterError("\(what) for \(name) failed: \(String(cString: strerror(code)))")
                }
            }
            var actions = posix_spawn_file_actions_t()
            try check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init")
            defer { posix_spawn_file_actions_destroy(&actions) }
            try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "redirecting stdin")
            try check(
                posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644),
                "redirecting stdout")
            try check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "redirecting stderr")
            let inherited = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for descriptor in inherited.compactMap({ Int32($0) }) where descriptor > 2 {
                try check(posix_spawn_file_actions_addclose(&actions, descriptor), "closing descriptors")
            }
            var attributes = posix_spawnattr_t()
            try check(posix_spawnattr_init(&attributes), "posix_spawnattr_init")
            defer { posix_spawnattr_destroy(&attributes) }
            var noSignals = sigset_t()
            var allSignals = sigset_t()
            sigemptyset(&noSignals)
            sigfillset(&allSignals)
            sigdelset(&allSignals, SIGKILL)
            sigdelset(&allSignals, SIGSTOP)
            try check(posix_spawnattr_setsigmask(&attributes, &noSignals), "posix_spawnattr_setsigmask")
            try check(posix_spawnattr_setsigdefault(&attributes, &allSignals), "posix_spawnattr_setsigdefault")
            try check(
                posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)),
                "posix_spawnattr_setflags")
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var pid = pid_t()
            try check(posix_spawn(&pid, executable, &actions, &attributes, argv, envp), "posix_spawn \(executable)")
            self.name = name
            self.pid = pid
        }

        /// Reaps the daemon if it has exited (so no zombie lingers); true once it has.
        func hasExited() -> Bool {
            if waitStatus != nil { return true }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) {
                waitStatus = result == pid ? status : -1
                return true
            }
            return false
        }

        /// Sends `signal`, unless the daemon has been reaped (its pid may be another process's by then).
        func send(_ signal: Int32) {
            if !hasExited() { kill(pid, signal) }
        }

        /// "exited with status N" or "was killed by signal N", for error messages.
        var exitDescription: String {
            guard let status = waitStatus else { return "is running" }
            if status == -1 { return "exited (reaped elsewhere)" }
            let signal = status & 0x7f
            return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
        }
    }
}

// MARK: - Ports

extension SlurmCluster {
    /// Free TCP ports, picked by the kernel: binds sockets to port 0 and reads the ports back. All sockets
    /// stay open until every port is known, so one call never returns the same port twice.
    enum FreePorts {
        static func pick(_ count: Int) throws -> [Int] {
            var descriptors: [Int32] = []
            defer { for descriptor in descriptors { close(descriptor) } }
            var ports: [Int] = []
            for _ in 0..<count {
                let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                guard descriptor >= 0 else { throw SlurmClusterError("socket() failed: errno \(errno)") }
                descriptors.append(descriptor)
                // INADDR_ANY, as slurmctld and slurmd bind.
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = 0
                address.sin_addr.s_addr = 0
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let bound = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
                    }
                }
                guard bound else { throw SlurmClusterError("binding a socket to port 0 failed: errno \(errno)") }
                ports.append(Int(UInt16(bigEndian: address.sin_port)))
            }
            return ports
        }
    }
}

// MARK: - The process table

extension SlurmCluster {
    /// Reading /proc (Linux): which processes are alive, their names, parents and environments. What stop()
    /// and the tests use to prove that nothing of a cluster is left.
    enum ProcFS {
        /// The numeric entries of /proc.
        static func pids() -> [Int32] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return names.compactMap { Int32($0) }
        }

        /// /proc/PID/status as key → value ("Name", "State", "PPid", …); nil once the process is gone.
        static func status(_ pid: Int32) -> [String: String]? {
            guard let text = read("/proc/\(pid)/status") else { return nil }
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return fields
        }

        /// The process's name (the first 15 bytes of its executable's name).
        static func name(_ pid: Int32) -> String? { status(pid)?["Name"] }

        /// True when the process no longer exists or is a zombie waiting to be reaped (PID 1 in this
        /// container reaps only every ~2 s: pitfall 6).
        static func isGone(_ pid: Int32) -> Bool {
            guard let state = status(pid)?["State"] else { return true }
            return state.hasPrefix("Z") || state.hasPrefix("X")
        }

        /// Live processes other than this one whose environment holds `entry` ("NAME=value") exactly.
        static func livePIDs(withEnvironmentEntry entry: String) -> [Int32] {
            let me = getpid()
            return pids().filter { pid in
                guard pid != me, let environment = read("/proc/\(pid)/environ") else { return false }
                return environment.split(separator: "\0").contains { $0 == entry } && !isGone(pid)
            }
        }

        /// A /proc file's text (their size reads as 0, so read to the end); nil if it cannot be read.
        private static func read(_ path: String) -> String? {
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            guard let data = try? handle.readToEnd() else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
