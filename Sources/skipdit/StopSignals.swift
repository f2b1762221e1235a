// Stop requests for a foreground render: SIGTERM, SIGINT and SIGUSR1 (what Slurm sends before a
// time limit or a preemption) ask the render to stop at the next step boundary with its state
// saved, so that the same command resumes it later.

import Dispatch
import Foundation

final class StopSignals: @unchecked Sendable {
    static let signals: [Int32] = [SIGTERM, SIGINT, SIGUSR1]

    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// Starts listening (the default actions of these signals are replaced while this lives).
    init() {
        let queue = DispatchQueue(label: "skipdit.stop-signals")
        for number in Self.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.record(number) }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
        for number in Self.signals { signal(number, SIG_DFL) }
    }

    private func record(_ number: Int32) {
        lock.lock()
        if received == nil { received = number }
        lock.unlock()
    }

    /// The first stop signal received, if any.
    var stopSignal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
