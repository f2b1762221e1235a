// SpoolWatcher: wake-ups for the daemon when a job file arrives in incoming/ (inotify IN_CLOSE_WRITE and
// IN_MOVED_TO), plus a periodic rescan because shared file systems deliver no inotify events. One
// background thread polls the inotify descriptor and a self-pipe; the C calls of watching live here.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the watcher woke the daemon.
public enum SpoolWake: Sendable, Equatable {
    /// inotify saw a job file named so being closed after writing or moved in.
    case arrived(String)
    /// The rescan timer fired, inotify overflowed, or `poke()` was called: scan incoming/ again.
    case rescan
}

/// Watches incoming/ and delivers `SpoolWake`s as an async sequence (one consumer).
public final class SpoolWatcher: @unchecked Sendable {
    /// The wake-ups, in order; ends after `stop()`.
    public let wakes: AsyncStream<SpoolWake>
    /// True when inotify watches the directory (false: periodic rescans only).
    public let usesInotify: Bool

    private let continuation: AsyncStream<SpoolWake>.Continuation
    private let rescanInterval: TimeInterval
    private let lock = NSLock()
    private var stopped = false
    private var pipeRead: Int32 = -1
    private var pipeWrite: Int32 = -1
    private var inotifyFD: Int32 = -1

    /// Starts watching `directory`; rescans every `rescanInterval` seconds. With `useInotify` false (or
    /// when inotify is unavailable) only the rescans wake the consumer.
    public init(directory: URL, rescanInterval: TimeInterval, useInotify: Bool = true) throws {
        (wakes, continuation) = AsyncStream.makeStream(of: SpoolWake.self, bufferingPolicy: .bufferingNewest(64))
        self.rescanInterval = max(0.01, rescanInterval)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SpoolError.system(operation: "pipe", path: directory.path, errno: errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        pipeRead = fds[0]
        pipeWrite = fds[1]
        var watching = false
        #if os(Linux)
            if useInotify {
                let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
                if fd >= 0 {
                    if inotify_add_watch(fd, directory.path, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 {
                        inotifyFD = fd
                        watching = true
                    } else {
                        let code = errno
                        close(fd)
                        close(fds[0])
                        close(fds[1])
                        throw SpoolError.system(operation: "inotify_add_watch", path: directory.path, errno: code)
                    }
                }
            }
        #endif
        usesInotify = watching
        // The running thread keeps the watcher alive until `stop()`; the watcher does not keep the
        // thread (that cycle leaked both after the thread had ended).
        let thread = Thread { [self] in run() }
        thread.name = "skipdit.spool-watcher"
        thread.start()
    }

    deinit { stop() }

    /// Wakes the consumer with `.rescan` now (e.g. after a job finished or on SIGHUP).
    public func poke() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        var byte: UInt8 = 1
        _ = write(pipeWrite, &byte, 1)
    }

    /// Stops the thread and ends `wakes`.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        var byte: UInt8 = 0
        _ = write(pipeWrite, &byte, 1)
        close(pipeWrite)
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// The watcher thread: poll until stopped; the only exit is `stop()`.
    private func run() {
        var deadline = ProcessInfo.processInfo.systemUptime + rescanInterval
        while !isStopped {
            var fds = [pollfd(fd: pipeRead, events: Int16(POLLIN), revents: 0)]
            if inotifyFD >= 0 { fds.append(pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)) }
            let wait = max(0, deadline - ProcessInfo.processInfo.systemUptime)
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(wait * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno != EINTR { usleep(100_000) }
            if fds[0].revents != 0 && drainPipe() { continuation.yield(.rescan) }
            if fds.count > 1 && fds[1].revents != 0 { readEvents() }
            if ProcessInfo.processInfo.systemUptime >= deadline {
                continuation.yield(.rescan)
                deadline = ProcessInfo.processInfo.systemUptime + rescanInterval
            }
        }
        close(pipeRead)
        if inotifyFD >= 0 { close(inotifyFD) }
        continuation.finish()
    }

    /// Empties the self-pipe; true when it held a poke (not only the stop byte).
    private func drainPipe() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var poked = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeRead, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            if buffer[0..<n].contains(1) { poked = true }
        }
        return poked && !isStopped
    }

    /// Reads the pending inotify events and yields one wake-up per job file.
    private func readEvents() {
        #if os(Linux)
            let header = MemoryLayout<inotify_event>.size  // wd, mask, cookie, len: 16 bytes
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                buffer.withUnsafeBytes { raw in
                    var offset = 0
                    while offset + header <= n {
                        let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                        let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                        let nameBytes = raw[(offset + header)..<min(n, offset + header + length)]
                        let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                        offset += header + length
                        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                            continuation.yield(.rescan)
                        } else if SpoolLayout.kind(ofIncoming: name) == .job {
                            continuation.yield(.arrived(name))
                        } else if name.hasPrefix(SpoolLayout.wakePrefix) {
                            continuation.yield(.rescan)  // a command (hold, release, retry...) changed the queue
                        }
                    }
                }
            }
        #endif
    }
}
