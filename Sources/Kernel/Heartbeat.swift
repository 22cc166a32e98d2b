import CZMQ
import Foundation

/// The heartbeat channel on its own OS thread: every message received on the REP socket is sent
/// straight back, whatever the shell thread is doing, so clients know the process is alive.
final class Heartbeat: @unchecked Sendable {
    private let socket: ZMQSocket
    private let stop: KernelStopFlag
    private let finished = DispatchSemaphore(value: 0)

    init(socket: ZMQSocket, stop: KernelStopFlag) {
        self.socket = socket
        self.stop = stop
    }

    /// Starts the echo thread.
    func start() {
        let thread = Thread { [self] in
            var dropped = false
            while !stop.isSet {
                guard let frames = socket.receive(timeoutMs: 100, maxFrames: 16, dropped: &dropped) else { continue }
                try? socket.send(frames)
            }
            socket.close(lingerMs: 0)
            finished.signal()
        }
        thread.name = "prunelang-heartbeat"
        thread.start()
    }

    /// Waits until the thread has closed its socket (at most `timeout` seconds).
    func waitUntilStopped(timeout: Double) -> Bool {
        finished.wait(timeout: .now() + timeout) == .success
    }
}

/// Set once when the kernel is shutting down; every serving loop checks it between polls.
final class KernelStopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// Whether shutdown has begun.
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    /// Begins shutdown.
    func set() { lock.lock(); value = true; lock.unlock() }
}
