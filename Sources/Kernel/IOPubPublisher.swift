import CZMQ
import Foundation

/// The one queue every IOPub message goes through: status, execute_input, streams, displays,
/// results and errors are sent in the order they are published, from any thread (the shell
/// thread, a cell's thread, the control thread), each before the request's reply and its idle
/// status. Sending is synchronous under a lock, so nothing is lost or reordered.
final class IOPubPublisher: @unchecked Sendable {
    private let socket: ZMQSocket
    private let signer: MessageSigner
    private let session: String
    private let lock = NSLock()
    private var closed = false

    init(socket: ZMQSocket, signer: MessageSigner, session: String) {
        self.socket = socket
        self.signer = signer
        self.session = session
    }

    /// Publishes a message of `type` with `content`, answering `parent` (nil: no parent).
    func publish(_ type: String, _ content: JSONObject, parent: WireMessage?, metadata: JSONObject = [:]) {
        var msg = WireMessage(type: type, content: content, parent: parent, session: session, metadata: metadata)
        msg.identities = [Array("kernel.\(session).\(type)".utf8)]
        let frames = msg.frames(signer: signer)
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        do { try socket.send(frames) } catch { KernelLog.write("iopub: \(error)") }
    }

    /// Publishes the kernel's execution state ("starting", "busy", "idle").
    func status(_ state: String, parent: WireMessage?) {
        publish("status", ["execution_state": state], parent: parent)
    }

    /// Closes the socket; later publishes are dropped.
    func close(lingerMs: Int32) {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        socket.close(lingerMs: lingerMs)
    }
}

/// The kernel's log: one line per event on standard error (the front end's log shows it).
enum KernelLog {
    /// Writes "prunelang kernel: MESSAGE".
    static func write(_ message: String) {
        FileHandle.standardError.write(Data("prunelang kernel: \(message)\n".utf8))
    }
}
