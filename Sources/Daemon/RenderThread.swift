// RenderThread: runs a synchronous render (minutes of CPU work that itself fans out over all cores)
// on a dedicated thread, so it never blocks Swift's cooperative thread pool, where the heartbeat,
// the watchdog, signals and the spool watcher keep running.

import Foundation

enum RenderThread {
    /// Stack size of the render thread (the numeric code keeps small buffers on the stack).
    static let stackSize = 16 << 20

    /// Runs `body` on a new thread and resumes with its result.
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.stackSize = stackSize
            thread.start()
        }
    }
}
