import CZMQ
import Foundation

/// A libzmq failure: what was being done and libzmq's own words for the error.
public struct ZMQError: Error, CustomStringConvertible {
    /// What failed ("bind tcp://127.0.0.1:5555").
    public let operation: String
    /// libzmq's errno.
    public let code: Int32

    /// The error for the current `zmq_errno()`.
    init(_ operation: String) {
        self.operation = operation
        self.code = zmq_errno()
    }

    /// "bind tcp://…: Address already in use".
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }
}

/// One libzmq context: owns the I/O thread; sockets are made from it.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// A new context.
    public init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQError("zmq_ctx_new") }
        handle = h
    }

    /// A new socket of `type` (ZMQ_ROUTER, ZMQ_PUB, ZMQ_REP...).
    public func socket(_ type: Int32) throws -> ZMQSocket {
        guard let s = zmq_socket(handle, type) else { throw ZMQError("zmq_socket") }
        return ZMQSocket(handle: s)
    }
}

/// A thin wrapper of one libzmq socket. A socket belongs to one thread at a time (libzmq's rule);
/// the kernel gives each socket to one thread, or guards it with a lock (IOPub).
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    private var closed = false

    init(handle: UnsafeMutableRawPointer) { self.handle = handle }

    /// Sets an integer option.
    public func set(_ option: Int32, _ value: Int32) throws {
        var v = value
        if zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) != 0 { throw ZMQError("setsockopt \(option)") }
    }

    /// Sets a 64-bit integer option (ZMQ_MAXMSGSIZE).
    public func set(_ option: Int32, int64 value: Int64) throws {
        var v = value
        if zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) != 0 { throw ZMQError("setsockopt \(option)") }
    }

    /// Sets a string option (a Z85 CURVE key is passed as its 40 characters).
    public func set(_ option: Int32, string value: String) throws {
        let bytes = Array(value.utf8)
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, bytes.count) }
        if rc != 0 { throw ZMQError("setsockopt \(option)") }
    }

    /// Binds to `endpoint` ("tcp://127.0.0.1:5555", "ipc:///tmp/k-1").
    public func bind(_ endpoint: String) throws {
        if zmq_bind(handle, endpoint) != 0 { throw ZMQError("bind \(endpoint)") }
    }

    /// Sends `frames` as one multipart message (blocking).
    public func send(_ frames: [[UInt8]]) throws {
        for (i, f) in frames.enumerated() {
            let flags: Int32 = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            let rc = f.withUnsafeBytes { zmq_send(handle, $0.baseAddress, f.count, flags) }
            if rc < 0 { throw ZMQError("send") }
        }
    }

    /// Receives one multipart message, waiting at most `timeoutMs` (-1: forever); nil on time-out
    /// or when the context is shutting down. A message with more than `maxFrames` frames is read to
    /// its end and thrown away (nil is returned and `dropped` is set).
    public func receive(timeoutMs: Int32, maxFrames: Int = 4096, dropped: inout Bool) -> [[UInt8]]? {
        dropped = false
        guard poll(timeoutMs: timeoutMs) else { return nil }
        var frames: [[UInt8]] = []
        var tooMany = false
        while true {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            if zmq_msg_recv(&msg, handle, 0) < 0 { return nil }
            let size = zmq_msg_size(&msg)
            if frames.count < maxFrames {
                let data = zmq_msg_data(&msg)
                frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                tooMany = true
            }
            if zmq_msg_more(&msg) == 0 { break }
        }
        if tooMany { dropped = true; return nil }
        return frames
    }

    /// Whether a message is waiting, after at most `timeoutMs`.
    public func poll(timeoutMs: Int32) -> Bool {
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let rc = zmq_poll(&item, 1, Int(timeoutMs))
        return rc > 0 && (item.revents & Int16(ZMQ_POLLIN)) != 0
    }

    /// Closes the socket after waiting at most `lingerMs` for unsent messages.
    public func close(lingerMs: Int32 = 1000) {
        guard !closed else { return }
        closed = true
        try? set(ZMQ_LINGER, lingerMs)
        zmq_close(handle)
    }
}

/// Waits on several sockets at once: the indices of those with a message, after at most `timeoutMs`.
func pollReadable(_ sockets: [ZMQSocket], timeoutMs: Int32) -> [Int] {
    var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
    let rc = zmq_poll(&items, Int32(items.count), Int(timeoutMs))
    guard rc > 0 else { return [] }
    return items.indices.filter { (items[$0].revents & Int16(ZMQ_POLLIN)) != 0 }
}
