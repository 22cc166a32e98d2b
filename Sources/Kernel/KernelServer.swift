import CZMQ
import Foundation
import PruneLang

/// A PruneLang Jupyter kernel: binds the five channels of a connection file and serves the
/// messaging protocol 5.3. The shell channel (and the cells it runs) has the main serving thread;
/// control (interrupt, shutdown) and heartbeat have their own threads, so an interrupt reaches a
/// running cell and a busy kernel still answers heartbeats.
public final class KernelServer: @unchecked Sendable {
    /// The connection it serves.
    public let connection: ConnectionInfo
    /// The PruneLang session the cells run in.
    let interpreter: Interpreter
    let signer: MessageSigner
    /// This kernel process's session id (the `session` of every header it sends).
    let session = UUID().uuidString.lowercased()
    let context: ZMQContext
    let shell: ZMQSocket
    let control: ZMQSocket
    let stdin: ZMQSocket
    let iopub: IOPubPublisher
    let heartbeat: Heartbeat
    let stop = KernelStopFlag()
    let history: HistoryStore
    /// The number of the last stored execution (0 before the first).
    var executionCount = 0
    /// The process that started the kernel: when it is gone, nobody can reach the kernel any more.
    private let parentPID = getppid()
    /// Signalled when the shell thread has left its loop (shutdown waits for it, briefly).
    private let shellStopped = DispatchSemaphore(value: 0)

    /// Binds every channel of `connection` (only its address), with CURVE when keys are present.
    public init(connection: ConnectionInfo, historyPath: String? = KernelServer.defaultHistoryPath()) throws {
        self.connection = connection
        signer = MessageSigner(key: connection.key)
        history = HistoryStore(path: historyPath)
        interpreter = Interpreter()
        let ctx = try ZMQContext()
        context = ctx
        func make(_ type: Int32, _ port: Int) throws -> ZMQSocket {
            let s = try ctx.socket(type)
            try s.set(ZMQ_LINGER, 1000)
            // Inbound frames only; on every socket, so no peer (a heartbeat ping, a PUB subscription) can make it allocate more.
            try s.set(ZMQ_MAXMSGSIZE, int64: Int64(WireMessage.transportFrameBytes))
            if connection.ip.contains(":") { try s.set(ZMQ_IPV6, 1) }
            if let secret = connection.curveSecretKey {
                try s.set(ZMQ_CURVE_SERVER, 1)
                try s.set(ZMQ_CURVE_SECRETKEY, string: secret)
            }
            try s.bind(connection.endpoint(port))
            return s
        }
        shell = try make(ZMQ_ROUTER, connection.shellPort)
        control = try make(ZMQ_ROUTER, connection.controlPort)
        stdin = try make(ZMQ_ROUTER, connection.stdinPort)
        iopub = IOPubPublisher(socket: try make(ZMQ_PUB, connection.iopubPort), signer: signer, session: session)
        heartbeat = Heartbeat(socket: try make(ZMQ_REP, connection.hbPort), stop: stop)
        // A notebook has no command-line arguments; scripts that read `args` see an empty list.
        interpreter["args"] = .list([])
    }

    /// Where history is kept unless told otherwise (see `HistoryStore.defaultPath`).
    public static func defaultHistoryPath() -> String { HistoryStore.defaultPath() }

    /// Stops the running cell (as an interrupt_request does); safe from a signal handler.
    public func interruptRunningCell() { interpreter.interruptFlag.set() }

    /// Serves until a shutdown request; returns the exit status (0).
    public func run() -> Int32 {
        heartbeat.start()
        startControlThread()
        iopub.status("starting", parent: nil)
        serveShell()
        shellStopped.signal()
        // The control thread finishes the shutdown and exits the process.
        while true { sleep(60) }
    }

    /// Receives and answers shell messages until shutdown begins.
    private func serveShell() {
        var dropped = false
        while !stop.isSet {
            guard let frames = shell.receive(timeoutMs: 100, dropped: &dropped) else {
                if dropped { KernelLog.write("shell: dropped a message with too many frames") }
                continue
            }
            guard let msg = parse(frames, channel: "shell") else { continue }
            handleShell(msg)
        }
        shell.close(lingerMs: 1000)
        stdin.close(lingerMs: 0)
    }

    /// A verified message, or nil (logged) for bad signatures and malformed frames.
    func parse(_ frames: [[UInt8]], channel: String) -> WireMessage? {
        do { return try WireMessage.parse(frames, signer: signer) } catch {
            KernelLog.write("\(channel): dropped a message: \(error)")
            return nil
        }
    }

    /// Sends `content` as the `type` reply to `request` on `socket`.
    func reply(_ socket: ZMQSocket, _ type: String, _ content: JSONObject, to request: WireMessage, metadata: JSONObject = [:]) {
        let msg = WireMessage(type: type, content: content, parent: request, session: session, metadata: metadata)
        do { try socket.send(msg.frames(signer: signer)) } catch { KernelLog.write("reply \(type): \(error)") }
    }

    /// Answers one shell request between busy and idle.
    func handleShell(_ msg: WireMessage) {
        iopub.status("busy", parent: msg)
        defer { iopub.status("idle", parent: msg) }
        if let bytes = msg.oversizedBytes {
            refuseOversized(msg, bytes: bytes, on: shell)
            return
        }
        switch msg.type {
        case "execute_request": handleExecute(msg)
        case "kernel_info_request": reply(shell, "kernel_info_reply", KernelInfo.content, to: msg)
        case "complete_request": reply(shell, "complete_reply", completeReply(msg.content), to: msg)
        case "inspect_request": reply(shell, "inspect_reply", inspectReply(msg.content), to: msg)
        case "is_complete_request": reply(shell, "is_complete_reply", isCompleteReply(msg.content), to: msg)
        case "history_request": reply(shell, "history_reply", historyReply(msg.content), to: msg)
        case "comm_info_request": reply(shell, "comm_info_reply", ["status": "ok", "comms": JSONObject()], to: msg)
        case "comm_open": rejectComm(msg)
        case "comm_msg", "comm_close": break
        case "shutdown_request": shutdown(msg, on: shell)
        default: KernelLog.write("shell: unknown message type \(msg.type)")
        }
    }

    /// Answers a signed request whose frames are over `WireMessage.maxFrameBytes` with an error
    /// reply (ename "MessageTooLarge") instead of running it; an execute_request also shows the
    /// error in the cell (IOPub `error`) and, as any failed cell, aborts the requests queued behind
    /// it. Anything that is not a request is only logged.
    func refuseOversized(_ msg: WireMessage, bytes: Int, on socket: ZMQSocket) {
        let limit = WireMessage.maxFrameBytes
        let evalue = "the \(msg.type) message is \(bytes) bytes, over the kernel's limit of \(limit) bytes (\(limit >> 20) MiB) per frame; it was not run"
        KernelLog.write("\(socket === control ? "control" : "shell"): refused \(msg.type) of \(bytes) bytes (limit \(limit) per frame)")
        guard msg.type.hasSuffix("_request") else { return }
        let error: JSONObject = ["ename": "MessageTooLarge", "evalue": evalue, "traceback": ["MessageTooLarge: " + evalue]]
        var content = error
        content["status"] = "error"
        if msg.type == "execute_request" {
            let failedAt = Date()
            iopub.publish("error", error, parent: msg)
            content["execution_count"] = executionCount
            reply(socket, "execute_reply", content, to: msg)
            if socket === shell { abortQueuedExecutions(sentBefore: failedAt) }
            return
        }
        reply(socket, String(msg.type.dropLast("_request".count)) + "_reply", content, to: msg)
    }

    // MARK: Control

    private func startControlThread() {
        let thread = Thread { [self] in
            var dropped = false
            while !stop.isSet {
                if getppid() != parentPID {
                    KernelLog.write("the process that started the kernel is gone; exiting")
                    exit(0)
                }
                guard let frames = control.receive(timeoutMs: 100, dropped: &dropped),
                      let msg = parse(frames, channel: "control") else { continue }
                iopub.status("busy", parent: msg)
                if let bytes = msg.oversizedBytes {
                    refuseOversized(msg, bytes: bytes, on: control)
                    iopub.status("idle", parent: msg)
                    continue
                }
                switch msg.type {
                case "interrupt_request":
                    interpreter.interrupt()
                    reply(control, "interrupt_reply", ["status": "ok"], to: msg)
                case "kernel_info_request": reply(control, "kernel_info_reply", KernelInfo.content, to: msg)
                case "shutdown_request": shutdown(msg, on: control)
                default: KernelLog.write("control: unknown message type \(msg.type)")
                }
                iopub.status("idle", parent: msg)
            }
        }
        thread.name = "prunelang-control"
        thread.start()
    }

    /// Answers a shutdown request, stops every thread (a running cell is interrupted) and exits
    /// the process within about a second. With `restart` the client starts a new kernel.
    func shutdown(_ msg: WireMessage, on socket: ZMQSocket) {
        let restart = msg.content["restart"] as? Bool ?? false
        let content: JSONObject = ["status": "ok", "restart": restart]
        reply(socket, "shutdown_reply", content, to: msg)
        iopub.publish("shutdown_reply", content, parent: msg)
        iopub.status("idle", parent: msg)
        stop.set()
        interpreter.interrupt()
        if socket !== shell {
            // Give the shell thread a moment to leave its loop (a running cell was interrupted).
            _ = shellStopped.wait(timeout: .now() + 0.5)
        }
        _ = heartbeat.waitUntilStopped(timeout: 0.3)
        iopub.close(lingerMs: 300)
        // libzmq's I/O thread sends the queued reply and status within microseconds on loopback;
        // leave after a short grace rather than waiting on sockets a stuck cell may still hold.
        usleep(50_000)
        exit(0)
    }
}
