// ReloadService: SIGHUP re-reads the configuration (`systemctl reload skipdit`). The signal is taken
// with a dispatch signal source (its default action, ending the process, is turned off first); the
// reload itself tells systemd RELOADING=1 and then READY=1, and keeps the old configuration when the
// new file has errors.

import Dispatch
import Foundation
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct ReloadService: Service, CustomStringConvertible {
    let context: DaemonContext
    private let signals: HangupSignals
    var description: String { "ReloadService" }

    /// Starts catching SIGHUP at once (before READY=1), so an early reload cannot end the process.
    init(context: DaemonContext) {
        self.context = context
        signals = HangupSignals()
    }

    func run() async throws {
        let signals = self.signals
        await withGracefulShutdownHandler {
            for await _ in signals.stream {
                context.logger.notice("SIGHUP: reloading \(context.options.configPath)")
                context.reload()
            }
        } onGracefulShutdown: {
            signals.finish()
        }
    }
}

/// SIGHUP deliveries as an async stream (one consumer).
final class HangupSignals: @unchecked Sendable {
    let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let source: DispatchSourceSignal

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "skipdit.sighup"))
        let continuation = self.continuation
        source.setEventHandler { continuation.yield() }
        source.resume()
    }

    /// Stops listening and ends the stream.
    func finish() {
        source.cancel()
        continuation.finish()
    }

    deinit { finish() }
}
