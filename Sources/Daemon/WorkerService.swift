// WorkerService: the daemon's main loop. It watches incoming/ (SpoolWatcher: inotify plus periodic
// rescans), tells systemd READY=1, and on every wake-up claims and renders jobs one at a time, in
// claim order (priority, then age; released and abandoned jobs resume), until none is ready. On the
// Slurm executor it claims as many jobs as `max_in_flight` has slots and tracks them side by side. A file
// still being written is looked at again once it had time to become stable. On graceful shutdown it
// stops the running render at its next step boundary, releases the job and returns.

import Foundation
import Logging
import ServiceLifecycle
import Spool

struct WorkerService: Service, CustomStringConvertible {
    let context: DaemonContext
    var description: String { "WorkerService" }

    /// Coalesces delayed re-checks of files that were not yet stable.
    private final class RetryState: @unchecked Sendable {
        private let lock = NSLock()
        private var pending = false
        /// True when the caller should schedule a re-check (none is pending).
        func begin() -> Bool {
            lock.withLock {
                defer { pending = true }
                return !pending
            }
        }
        func end() { lock.withLock { pending = false } }
    }

    private let retry = RetryState()

    init(context: DaemonContext) { self.context = context }

    func run() async throws {
        let config = context.config
        let spool = context.spool
        let watcher = try SpoolWatcher(directory: spool.incoming, rescanInterval: config.daemon.rescanSeconds)
        context.watcher = watcher
        defer { watcher.stop() }
        do {
            let settled = try spool.recover()
            if settled > 0 {
                context.logger.notice("recovered \(settled) abandoned entr\(settled == 1 ? "y" : "ies") in processing/")
            }
        } catch {
            context.logger.error("recovery of processing/ failed (retried at the next scan): \(error)")
        }
        let how =
            (watcher.usesInotify ? "inotify + " : "") + "rescan every \(Durations.text(config.daemon.rescanSeconds))"
        context.logger.notice(
            "watching \(spool.incoming.path) (\(how)), output \(config.output.path), \(config.models.count) model(s)")
        context.notify { try $0.ready(status: "idle") }
        context.metrics.stateChanged(spool: spool, settings: config.metrics, logger: context.logger)

        await withGracefulShutdownHandler {
            // Jobs on Slurm are tracked side by side as child tasks; the group ends once each has
            // released its job at shutdown.
            await withDiscardingTaskGroup { group in
                await drain(&group)
                for await _ in watcher.wakes {
                    if context.isStopping { break }
                    await drain(&group)
                }
            }
        } onGracefulShutdown: { [context] in
            context.requestStop()
            watcher.stop()
        }
        context.logger.notice("worker stopped")
    }

    /// Claims and renders ready jobs until none is left (or shutdown begins). On the Slurm executor
    /// each claimed job is tracked in a child task of `group`, and claiming stops while every slot of
    /// `max_in_flight` is held.
    private func drain(_ group: inout DiscardingTaskGroup) async {
        do {
            for directory in try context.spool.rejectOverflow(limit: context.config.limits.maxQueuedJobs) {
                context.logger.warning("queue full: \(directory.lastPathComponent) moved to \(directory.path)")
            }
        } catch {
            context.logger.error("cannot enforce limits.max_queued_jobs (retried at the next scan): \(error)")
        }
        context.metrics.stateChanged(spool: context.spool, settings: context.config.metrics, logger: context.logger)
        var rendered = 0
        let onSlurm = context.executor.kind == .slurm
        while !context.isStopping {
            if onSlurm, context.slurmSlots.free == 0 { break }
            let spool = context.spool
            let job: ClaimedJob?
            do {
                job = try spool.claimNext(
                    priority: SpoolAccess.priority(ofJobAt:), after: SpoolAccess.dependencies(ofJobAt:))
            } catch {
                context.logger.error("cannot claim from \(spool.root.path) (retried at the next scan): \(error)")
                break
            }
            guard let job else { break }
            if onSlurm {
                let slots = context.slurmSlots.take(upTo: 1)
                let context = self.context
                group.addTask {
                    await JobRunner(context: context, spool: spool, job: job, slurmSlots: slots).run()
                    context.watcher?.poke()  // its slots are free again: claim what waits
                }
            } else {
                await JobRunner(context: context, spool: spool, job: job).run()
            }
            rendered += 1
        }
        guard !context.isStopping else { return }
        let waiting = (try? context.spool.queue(priority: SpoolAccess.priority(ofJobAt:)).waiting.count) ?? 0
        if rendered > 0 || waiting > 0 {
            context.notify { try $0.status(waiting > 0 ? "idle, \(waiting) file(s) settling in incoming/" : "idle") }
        }
        if waiting > 0 { scheduleRecheck() }
        if waiting == 0 && context.currentJobs.isEmpty && context.spool.spoolHold() == nil {
            context.notifyCommands.queueIsEmpty(settings: context.config.notify, logger: context.logger)
        }
    }

    /// Pokes the watcher once the stability interval passed, so settling files are claimed promptly.
    private func scheduleRecheck() {
        guard retry.begin() else { return }
        let delay = max(0.05, context.config.daemon.stabilitySeconds)
        let context = self.context
        let retry = self.retry
        Task {
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            retry.end()
            context.watcher?.poke()
        }
    }
}
