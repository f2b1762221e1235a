// SlurmJobTracker: a claimed, valid job on the Slurm executor, from submission to its ending. It
// submits one `sbatch --array` with a task per video still to render (after writing the intent to
// slurm.json), or adopts the array a previous owner submitted (found by name and comment), then
// polls the controller: per video it records the Slurm state and the task's step, requeues a task
// that ended in a failure state until `max_attempts` runs failed, and ends the job when every video
// is done (done/) or has failed for good (failed/, each video's Slurm state and reason in result.yaml).
// A graceful daemon stop releases the job and leaves the array running (the next owner adopts it);
// `skipdit cancel` scancels the array and fails the job with "cancelled". An unreachable controller
// is retried with a growing pause and never fails a job.

import Foundation
import Jobs
import Logging
import Render
import Slurm
import Spool

struct SlurmJobTracker {
    let context: DaemonContext
    let spool: SpoolDirectory
    let job: ClaimedJob
    let plan: RenderPlan
    let settings: ExecutorSettings
    let logger: Logger
    /// Slots of `max_in_flight` the worker took for this job; more are taken at submission.
    let slots: Int

    private var controller: SlurmController { SlurmController() }

    /// Runs until the job ends; gives back its slots then.
    func run(start: ResultRecord.Start, software: YAMLValue) async -> JobRunner.Ending {
        let held = HeldSlots(context.slurmSlots, slots)
        defer { held.giveBack() }
        return await track(start: start, software: software, held: held)
    }

    private func track(start: ResultRecord.Start, software: YAMLValue, held: HeldSlots) async -> JobRunner.Ending {
        var submission: SlurmSubmission
        do {
            submission =
                try SlurmSubmission.read(for: job, in: spool)
                ?? SlurmSubmission.fresh(jobID: job.id, videos: plan.videos.count)
            guard submission.isConsistent(videos: plan.videos.count) else {
                throw SlurmSubmission.Inconsistent()
            }
        } catch {
            // Damaged: an array of this job may be live, so look for one by name (any comment of this
            // job) before submitting anything.
            logger.warning(
                "slurm.json is unreadable (\(error)); looking for this job's array by name before submitting")
            submission = SlurmSubmission.fresh(jobID: job.id, videos: plan.videos.count)
            submission.submitting = true
            submission.adoptAnyComment = true
        }
        let started = Date()
        var pause = Self.firstPoll
        var cancelled = false
        if submission.heldBySkipdit == true, !spool.isHoldRequested(job) {
            await releaseArrays(&submission)
        }
        while true {
            if context.isLeaseLost(job) { return .abandon("the lease was taken over") }
            if context.isStopping {
                logger.notice("stopping: the job's Slurm array keeps running; the next start adopts it")
                return .release
            }
            if !cancelled, spool.isHoldRequested(job) {
                do {
                    try await holdArrays(&submission)
                    return .release
                } catch {
                    logger.warning(
                        "cannot hold the Slurm array (tried again in \(Durations.text(pause.seconds))): \(error)")
                    await sleep(pause)
                    continue
                }
            }
            if !cancelled, spool.isCancelRequested(job) {
                cancelled = true
                logger.notice("cancel requested: cancelling its Slurm array")
            }
            let before = submission
            do {
                if cancelled {
                    if try await cancelArrays(&submission) {
                        return .finish(
                            .failed(reason: JobRunner.cancelledReason),
                            ResultRecord.failed(
                                plan: plan, error: nil, start: start, software: software, slurm: submission.recordValue)
                        )
                    }
                } else {
                    try await step(&submission, held: held)
                }
                pause = submission == before ? min(pause * 2, pollInterval) : Self.firstPoll
            } catch let error as SlurmError where !error.isTransient {
                if case .rejected(let command, let message) = error, command.hasPrefix("sbatch") {
                    try? submission.write(for: job, in: spool)
                    return fail("sbatch refused the job: \(message)", submission, start: start, software: software)
                }
                logger.warning("\(error) (tried again in \(Durations.text(pause.seconds)))")
                pause = min(pause * 2, pollInterval * 10)
            } catch let error as SlurmError {
                logger.warning("\(error) (tried again in \(Durations.text(pause.seconds)))")
                pause = min(pause * 2, pollInterval * 10)
            } catch SpoolError.leaseLost {
                return .abandon("the lease was taken over by another process")
            } catch {
                logger.error("cannot record the Slurm state in the spool (tried again): \(error)")
                pause = min(pause * 2, pollInterval * 10)
            }
            if !cancelled, let ending = ending(submission, started: started, start: start, software: software) {
                return ending
            }
            await sleep(pause)
        }
    }

    /// Seconds a COMPLETED task's result file may take to appear on the shared filesystem.
    static let resultGraceSeconds: Double = 60

    /// First pause between polls after a change.
    static let firstPoll: Duration = .milliseconds(500)

    private var pollInterval: Duration { .milliseconds(Int64(settings.pollSeconds * 1000)) }

    /// Sleeps `pause`, waking early for a stop or a cancel request.
    private func sleep(_ pause: Duration) async {
        let end = ContinuousClock.now + pause
        while ContinuousClock.now < end, !context.isStopping, !spool.isCancelRequested(job), !spool.isHoldRequested(job)
        {
            try? await Task.sleep(for: min(.milliseconds(200), end - ContinuousClock.now))
        }
    }

    /// `skipdit hold`: holds the job's arrays in Slurm (pending tasks held, running ones requeued held:
    /// they save their state at SIGTERM) and records it, so the next tracker releases them.
    private func holdArrays(_ s: inout SlurmSubmission) async throws {
        if s.submitting {
            let found = try await findArrays(s)
            s.arrays += found.filter { !s.arrays.contains($0) }
            s.submitting = false
        }
        for array in Set(s.arrays) { try await slurm { try controller.hold(array: array) } }
        s.heldBySkipdit = true
        try s.write(for: job, in: spool)
        logger.notice(
            "held: Slurm array(s) \(s.arrays.map(String.init).joined(separator: ", ")) held (scontrol hold/requeuehold)"
        )
    }

    /// Releases the arrays a hold left held in Slurm (the job was released and is tracked again).
    private func releaseArrays(_ s: inout SlurmSubmission) async {
        for array in Set(s.arrays) {
            do {
                try await slurm { try controller.release(array: array) }
            } catch {
                logger.warning("cannot release Slurm array \(array) (scontrol release it by hand): \(error)")
            }
        }
        s.heldBySkipdit = nil
        try? s.write(for: job, in: spool)
        logger.notice("released: Slurm array(s) \(s.arrays.map(String.init).joined(separator: ", ")) run again")
    }

    /// Cancels the job's arrays; true once none of their tasks is queued or running any more.
    private func cancelArrays(_ s: inout SlurmSubmission) async throws -> Bool {
        if s.submitting {  // an sbatch may have gone through before a crash: find its array first
            let found = try await findArrays(s)
            s.arrays += found.filter { !s.arrays.contains($0) }
            s.submitting = false
        }
        var settled = true
        for array in Set(s.arrays) {
            try await slurm { try controller.cancel(array: array) }
            let records = try await slurm { try controller.records(ofArray: array) }
            if let records, records.contains(where: { $0.state?.meaning == .inFlight }) { settled = false }
        }
        for i in s.videos.indices where !s.videos[i].done { s.videos[i].state = SlurmJobState.cancelled.rawValue }
        try s.write(for: job, in: spool)
        return settled
    }

    /// One round: submit or adopt when no array is live, else read the array and act on each video.
    private func step(_ s: inout SlurmSubmission, held: HeldSlots) async throws {
        markDoneVideos(&s)
        if s.arrays.isEmpty || s.submitting {
            try await submitOrAdopt(&s, held: held)
            return
        }
        guard let array = s.arrays.last else { return }
        let records = try await slurm { try controller.records(ofArray: array) }
        guard let records else {
            // The controller forgot the array (it ended longer ago than its MinJobAge, or the cluster
            // was reset). Videos without a result file are counted as failed runs and resubmitted.
            let accounting = try await slurm { controller.accounting(ofArray: array) }
            for number in s.pending {
                let final = accounting?[number].map { "; accounting says \($0)" } ?? ""
                failure(
                    &s, number, state: "LOST", reason: "array \(array) is no longer known to the controller\(final)",
                    exit: nil)
                _ = countFailedRun(&s, number)
            }
            try s.write(for: job, in: spool)
            try await submit(&s, held: held)
            return
        }
        for number in s.pending {
            guard let record = records.first(where: { $0.taskIndices.contains(number) }), let state = record.state
            else {
                continue
            }
            try await observe(&s, number, record: record, state: state, array: array)
        }
        try s.write(for: job, in: spool)
        writeProgress(s)
    }

    /// Acts on one video's task record.
    private func observe(
        _ s: inout SlurmSubmission, _ number: Int, record: SlurmJobRecord, state: SlurmJobState, array: Int
    ) async throws {
        let i = number - 1
        let started = record.taskIndices.count == 1
        if started { s.videos[i].task = "\(array)_\(number)" }
        if let node = record.nodes, started { s.videos[i].node = node }
        switch state.meaning {
        case .inFlight:
            s.videos[i].state = state.rawValue
            s.videos[i].reason = record.reason
        case .completed:
            // The task exits 0 only after its result file is in place, but a shared filesystem may show
            // it late: only a result still missing after a grace period is a failed run.
            let now = Date().timeIntervalSince1970
            let since = s.videos[i].completedWithoutResultSince ?? now
            s.videos[i].completedWithoutResultSince = since
            s.videos[i].state = state.rawValue
            guard now - since >= Self.resultGraceSeconds else { return }
            s.videos[i].completedWithoutResultSince = nil
            failure(
                &s, number, state: "COMPLETED",
                reason: "the task ended without writing \(files(number).result.path)", exit: record.exitCode)
            try await retry(&s, number, array: array)
        case .failed:
            if record.exitCode == "\(SlurmTaskExit.stopped.rawValue):0" {
                // Stopped with its state saved, but its own requeue did not happen: requeue it (not a failure).
                s.videos[i].state = state.rawValue
                s.videos[i].reason = "stopped with its state saved; requeued"
                try await slurm { try controller.requeue(array: array, index: number) }
                logger.notice("video \(number): task stopped at a step boundary; requeued \(array)_\(number)")
                return
            }
            failure(
                &s, number, state: state.rawValue, reason: reason(of: record, number: number, array: array),
                exit: record.exitCode)
            try await retry(&s, number, array: array)
        case .cancelled:
            s.videos[i].state = state.rawValue
            s.videos[i].reason = "cancelled outside skipdit (scancel or an administrator)"
            s.videos[i].failedForGood = true
            logger.warning("video \(number): task \(array)_\(number) was cancelled outside skipdit")
        }
    }

    /// Counts a failed run of video `number`: true when another attempt is allowed (and counted), false
    /// when its attempts are used up (it has failed for good).
    private func countFailedRun(_ s: inout SlurmSubmission, _ number: Int) -> Bool {
        let i = number - 1
        guard s.videos[i].attempts < settings.maxAttempts else {
            s.videos[i].failedForGood = true
            logger.error(
                "video \(number): \(s.videos[i].state ?? "?") after \(s.videos[i].attempts) attempt(s): \(s.videos[i].reason ?? "")"
            )
            return false
        }
        s.videos[i].attempts += 1
        return true
    }

    /// Requeues a failed video's task, or gives it up when its attempts are used.
    private func retry(_ s: inout SlurmSubmission, _ number: Int, array: Int) async throws {
        let i = number - 1
        guard countFailedRun(&s, number) else { return }
        try s.write(for: job, in: spool)  // the attempt is counted before the requeue is asked for
        try await slurm { try controller.requeue(array: array, index: number) }
        logger.warning(
            "video \(number): \(s.videos[i].state ?? "?") (\(s.videos[i].reason ?? "")); requeued, attempt \(s.videos[i].attempts) of \(settings.maxAttempts)"
        )
    }

    /// Records a failed run of video `number`.
    private func failure(_ s: inout SlurmSubmission, _ number: Int, state: String, reason: String?, exit: String?) {
        let i = number - 1
        s.videos[i].state = state
        s.videos[i].reason = reason
        s.videos[i].failures.append(
            SlurmSubmission.Failure(
                state: state, reason: reason, exitCode: exit, node: s.videos[i].node,
                at: Date().timeIntervalSince1970))
    }

    /// Slurm's reason for a failed task, with what skipdit's exit status and output file say.
    private func reason(of record: SlurmJobRecord, number: Int, array: Int) -> String {
        var parts: [String] = []
        if let r = record.reason { parts.append(r) }
        let output = files(number).output(array: array)
        let status = record.exitCode.flatMap { $0.split(separator: ":").first }.flatMap { Int32($0) }
        if let status, let exit = SlurmTaskExit(rawValue: status) {
            parts.append("exit \(status) (\(exit))")
        } else if let code = record.exitCode {
            parts.append("exit code \(code)")
        }
        if let tail = Self.lastMessage(of: output) {
            parts.append(tail)
        } else if !FileManager.default.fileExists(atPath: output.path) {
            parts.append(
                "no output file \(output.path): skipdit never started there; can node \(record.nodes ?? "?") see the spool folder \(job.directory.path)?"
            )
        }
        return parts.joined(separator: "; ")
    }

    /// The last line skipdit wrote to a task's output file, if any.
    static func lastMessage(of output: URL) -> String? {
        guard let data = try? Data(contentsOf: output) else { return nil }
        let lines = String(decoding: data.suffix(16_384), as: UTF8.self).split(separator: "\n")
        return lines.last(where: { $0.hasPrefix("skipdit slurm-task: ") || $0.contains("error") }).map(String.init)
    }

    /// Marks videos whose result file is in place as done.
    private func markDoneVideos(_ s: inout SlurmSubmission) {
        for i in s.videos.indices where !s.videos[i].done {
            if FileManager.default.fileExists(atPath: files(i + 1).result.path) {
                s.videos[i].done = true
                s.videos[i].failedForGood = false
                s.videos[i].state = SlurmJobState.completed.rawValue
                s.videos[i].reason = nil
            }
        }
    }

    /// With the intent recorded: adopt a live array of this job, or submit one.
    private func submitOrAdopt(_ s: inout SlurmSubmission, held: HeldSlots) async throws {
        if s.submitting {
            let found = try await findArrays(s)
            if let array = found.max() {
                s.arrays.append(array)
                s.submitting = false
                try s.write(for: job, in: spool)
                logger.notice("adopted Slurm array \(array) (submitted before a restart)")
                return
            }
        }
        try await submit(&s, held: held)
    }

    /// This job's arrays known to the controller: by name and comment (any comment of this job when
    /// the record was damaged).
    private func findArrays(_ s: SlurmSubmission) async throws -> [Int] {
        let prefix = "skipdit:\(job.id):"
        return try await slurm { [name = s.name, comment = s.comment, any = s.adoptAnyComment] in
            try controller.arrays(named: name) { any ? $0.hasPrefix(prefix) : $0 == comment }
        }
    }

    /// Writes the intent, then calls sbatch for the pending videos and records its answer.
    private func submit(_ s: inout SlurmSubmission, held: HeldSlots) async throws {
        let pending = s.pending
        guard !pending.isEmpty else { return }
        held.grow(to: pending.count)
        let throttle = max(1, min(held.count, pending.count))  // %K: the slots held, at most one per video
        s.submitting = true
        try s.write(for: job, in: spool)
        let request = SlurmArrayRequest(
            name: s.name, comment: s.comment, indices: pending, throttle: throttle,
            outputPattern: SlurmTaskFiles.outputPattern(job.directory),
            script: SlurmArrayRequest.script(binary: binary, arguments: taskArguments, jobID: job.id))
        let array = try await slurm { [settings] in try controller.submit(request, settings: settings) }
        if context.options.crashAfterSubmit { kill(getpid(), SIGKILL) }
        s.arrays.append(array)
        s.submitting = false
        for number in pending { s.videos[number - 1].state = SlurmJobState.pending.rawValue }
        try s.write(for: job, in: spool)
        logger.notice(
            "submitted Slurm array \(array) (\(s.name), \(pending.count) task(s), at most \(throttle) at once)"
        )
    }

    /// skipdit on the compute nodes.
    private var binary: String {
        settings.binary ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }

    /// `skipdit slurm-task ...` for this job (the video comes from SLURM_ARRAY_TASK_ID).
    private var taskArguments: [String] {
        let config = URL(fileURLWithPath: context.options.configPath).standardizedFileURL.path
        var arguments = [
            "slurm-task", "--config", config, "--job-dir", job.directory.path, "--threads",
            String(settings.cpusPerTask),
        ]
        if context.options.stepDelay > 0 { arguments += ["--step-delay", String(context.options.stepDelay)] }
        return arguments
    }

    private func files(_ number: Int) -> SlurmTaskFiles { SlurmTaskFiles(jobDirectory: job.directory, video: number) }

    /// Runs a blocking Slurm call off the cooperative thread pool.
    private func slurm<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await RenderThread.run(name: "skipdit.slurm", body)
    }

    /// progress.yaml: the job's overall phase for `skipdit status`.
    private func writeProgress(_ s: SlurmSubmission) {
        var steps = 0
        for v in s.videos where !v.done && v.state == SlurmJobState.running.rawValue {
            steps += files(v.number).readProgress()?.step ?? 0
        }
        let done = s.videos.filter(\.done).count
        let running = s.videos.filter { !$0.done && $0.state == SlurmJobState.running.rawValue }.count
        let progress = JobProgress(
            phase:
                "slurm array \(s.arrays.last.map(String.init) ?? "-"): \(done)/\(s.videos.count) done, \(running) running",
            step: done * plan.steps + steps, totalSteps: s.videos.count * plan.steps, etaSeconds: nil)
        try? spool.writeProgress(progress, for: job)
    }

    /// The job's ending once every video is done or failed for good; nil while work goes on.
    private func ending(
        _ s: SlurmSubmission, started: Date, start: ResultRecord.Start, software: YAMLValue
    ) -> JobRunner.Ending? {
        guard s.pending.isEmpty, !s.submitting else { return nil }
        let failed = s.videos.filter { !$0.done }
        if !failed.isEmpty {
            let reasons = failed.map { "video \($0.number): \($0.state ?? "?")\($0.reason.map { " (\($0))" } ?? "")" }
            return fail(reasons.joined(separator: "; "), s, start: start, software: software)
        }
        var videos: [FinishedVideo] = []
        var computedBy: [(String, String)] = []
        for v in s.videos {
            guard let result = files(v.number).readResult() else {
                return fail("the result file of video \(v.number) is unreadable", s, start: start, software: software)
            }
            videos.append(result.video)
            if computedBy.isEmpty {
                computedBy = result.computedBy.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            }
        }
        var timings: [String: Double] = [:]
        for v in videos { for (k, t) in v.timings { timings[k, default: 0] += t } }
        let result = JobResult(videos: videos, timings: timings, computedBy: computedBy)
        let record = ResultRecord.done(
            plan: plan, result: result, output: context.config.output, start: start,
            wallSeconds: Date().timeIntervalSince(started), software: software, slurm: s.recordValue)
        return .finish(.done, record)
    }

    private func fail(
        _ reason: String, _ s: SlurmSubmission, start: ResultRecord.Start, software: YAMLValue
    ) -> JobRunner.Ending {
        .finish(
            .failed(reason: reason),
            ResultRecord.failed(plan: plan, error: nil, start: start, software: software, slurm: s.recordValue),
            failure: "slurm")
    }
}

/// The slots one job holds.
final class HeldSlots: @unchecked Sendable {
    private let slots: SlurmSlots
    private let lock = NSLock()
    private var held: Int

    init(_ slots: SlurmSlots, _ count: Int) {
        self.slots = slots
        held = count
    }

    var count: Int { lock.withLock { held } }

    /// Takes free slots until it holds `count` (or none are free).
    func grow(to count: Int) {
        lock.withLock { held += slots.take(upTo: count - held) }
    }

    func giveBack() {
        lock.withLock {
            slots.give(held)
            held = 0
        }
    }
}

extension SlurmSubmission {
    /// The `slurm:` block of result.yaml.
    var recordValue: YAMLValue {
        .mapping([
            ("arrays", .sequence(arrays.map { .int($0) })),
            ("name", .string(name)),
            ("comment", .string(comment)),
            (
                "videos",
                .sequence(
                    videos.map { v in
                        var fields: [(String, YAMLValue)] = [
                            ("video", .int(v.number)), ("state", .string(v.state ?? "unknown")),
                            ("attempts", .int(v.attempts)),
                        ]
                        if let r = v.reason { fields.append(("reason", .string(r))) }
                        if let t = v.task { fields.append(("task", .string(t))) }
                        if let n = v.node { fields.append(("node", .string(n))) }
                        if !v.failures.isEmpty {
                            fields.append(
                                (
                                    "failures",
                                    .sequence(
                                        v.failures.map { f in
                                            var m: [(String, YAMLValue)] = [("state", .string(f.state))]
                                            if let r = f.reason { m.append(("reason", .string(r))) }
                                            if let e = f.exitCode { m.append(("exit_code", .string(e))) }
                                            if let n = f.node { m.append(("node", .string(n))) }
                                            return .mapping(m)
                                        })
                                ))
                        }
                        return .mapping(fields)
                    })
            ),
        ])
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
