// HeartbeatService: the daemon's ticker. It refreshes the running job's lease every
// `daemon.heartbeat_seconds` (other hosts judge the lease by it; a lost lease stops the render) and
// sends WATCHDOG=1 every half of systemd's WatchdogSec ($WATCHDOG_USEC). It is shut down last, so the
// watchdog keeps being fed while the worker stops its render.

import Foundation
import ServiceLifecycle

struct HeartbeatService: Service, CustomStringConvertible {
    let context: DaemonContext
    var description: String { "HeartbeatService" }

    func run() async throws {
        let context = self.context
        let watchdog = context.notifier.watchdogInterval
        if let watchdog { context.logger.info("systemd watchdog: WATCHDOG=1 every \(Durations.text(watchdog))") }
        do {
            try await cancelWhenGracefulShutdown {
                let clock = ContinuousClock()
                var nextWatchdog = clock.now
                var nextHeartbeat = clock.now
                while true {
                    let now = clock.now
                    if let watchdog, now >= nextWatchdog {
                        context.notify { try $0.watchdog() }
                        nextWatchdog = now + .milliseconds(Int64(watchdog * 1000))
                    }
                    if now >= nextHeartbeat {
                        context.heartbeat()
                        let seconds = context.config.daemon.heartbeatSeconds
                        nextHeartbeat = now + .milliseconds(Int64(seconds * 1000))
                    }
                    let wake = watchdog == nil ? nextHeartbeat : min(nextHeartbeat, nextWatchdog)
                    try await Task.sleep(until: wake, clock: clock)
                }
            }
        } catch is CancellationError {
            // graceful shutdown
        }
    }
}
