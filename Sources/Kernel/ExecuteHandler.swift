import Foundation
import PruneLang

extension KernelServer {
    /// Runs an execute_request: execute_input, the cell's streams and displays as they happen,
    /// execute_result or error, then the reply (all on IOPub before the caller's idle status).
    func handleExecute(_ msg: WireMessage) {
        let code = msg.content["code"] as? String ?? ""
        let silent = msg.content["silent"] as? Bool ?? false
        let storeHistory = !silent && (msg.content["store_history"] as? Bool ?? true)
        let allowStdin = msg.content["allow_stdin"] as? Bool ?? false
        let stopOnError = msg.content["stop_on_error"] as? Bool ?? true
        if storeHistory { executionCount += 1 }
        let count = max(executionCount, 1)
        if !silent { iopub.publish("execute_input", ["code": code, "execution_count": count], parent: msg) }

        let progress = ProgressDisplay(iopub: iopub, parent: msg)
        interpreter.output = { [iopub] text in iopub.publish("stream", ["name": "stdout", "text": text], parent: msg) }
        interpreter.errorOutput = { [iopub] text in iopub.publish("stream", ["name": "stderr", "text": text], parent: msg) }
        interpreter.displayHandler = { [iopub] bundle in
            iopub.publish("display_data", ["data": bundle.data, "metadata": JSONObject(), "transient": JSONObject()], parent: msg)
        }
        interpreter.clearOutputHandler = { [iopub] wait in iopub.publish("clear_output", ["wait": wait], parent: msg) }
        interpreter.progressHandler = { event in progress.update(event) }
        // Without allow_stdin the front end cannot answer: the session has no input, so `input`
        // fails (as it does in any session without input) instead of returning none.
        interpreter.inputHandler = allowStdin ? { [self] prompt in requestInput(prompt: prompt, parent: msg) } : nil

        if !silent, let page = helpPage(code) {
            // `?name` / `name?`: the help opens in the front end's pager, as IPython does.
            if storeHistory { history.append(line: count, input: code, output: nil) }
            reply(shell, "execute_reply", ["status": "ok", "execution_count": count, "user_expressions": JSONObject(),
                                           "payload": [["source": "page", "data": page.data, "start": 0] as JSONObject]], to: msg)
            return
        }
        let result = interpreter.run(cell: code, name: "<cell \(count)>")
        progress.finish()

        if result.succeeded {
            if !silent, let shown = result.display {
                iopub.publish("execute_result", ["data": shown.data, "metadata": JSONObject(), "execution_count": count], parent: msg)
            }
            if storeHistory { history.append(line: count, input: code, output: result.display?.text) }
            let expressions = userExpressions(msg.content["user_expressions"] as? [String: Any] ?? [:])
            reply(shell, "execute_reply", ["status": "ok", "execution_count": count, "payload": [Any](),
                                           "user_expressions": expressions], to: msg)
            return
        }
        if storeHistory { history.append(line: count, input: code, output: nil) }
        let failedAt = Date()
        let error = Self.errorContent(result)
        iopub.publish("error", error, parent: msg)
        var content = error
        content["status"] = "error"
        content["execution_count"] = count
        reply(shell, "execute_reply", content, to: msg)
        if stopOnError { abortQueuedExecutions(sentBefore: failedAt) }
    }

    /// The help bundle for a cell that is only `?name` or `name?` (a name or member chain), nil otherwise.
    func helpPage(_ code: String) -> MIMEBundle? {
        var t = code.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("?") { t.removeFirst() } else if t.hasSuffix("?") { t.removeLast() } else { return nil }
        guard !t.isEmpty, t.unicodeScalars.allSatisfy({ $0 == "." || Identifier.isContinuation($0) })
        else { return nil }
        return interpreter.inspect(code: t, cursor: t.unicodeScalars.count)
    }

    /// Evaluates the request's user_expressions after a successful cell: each name maps to the
    /// value's MIME bundle, or to the error it raised.
    func userExpressions(_ requested: [String: Any]) -> JSONObject {
        var out = JSONObject()
        for (name, code) in requested {
            guard let code = code as? String else { continue }
            let r = interpreter.run(cell: code, name: "<user expression \(name)>")
            if r.succeeded {
                out[name] = ["status": "ok", "data": r.display?.data ?? ["text/plain": "none"], "metadata": JSONObject()]
            } else {
                var e = Self.errorContent(r)
                e["status"] = "error"
                out[name] = e
            }
        }
        return out
    }

    /// ename, evalue and traceback for a failed cell ("Interrupted" when it was interrupted).
    static func errorContent(_ result: CellResult) -> JSONObject {
        let first = result.diagnostics.first
        let ename: String
        switch first?.kind {
        case .interrupted?: ename = "Interrupted"
        case .syntax?: ename = "SyntaxError"
        case .name?: ename = "NameError"
        case .type?: ename = "TypeError"
        case .value?: ename = "ValueError"
        default: ename = "RuntimeError"
        }
        let traceback = result.diagnostics.flatMap { $0.render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        return ["ename": ename, "evalue": first?.message ?? "error", "traceback": traceback]
    }

    /// After an error with stop_on_error: answers the execute requests the client sent before the
    /// error (queued, or still arriving within 50 ms) with status "aborted", as ipykernel does;
    /// a request sent after the error, or any other message, is handled normally.
    func abortQueuedExecutions(sentBefore failedAt: Date) {
        var dropped = false
        while let frames = shell.receive(timeoutMs: 50, dropped: &dropped) {
            guard let next = parse(frames, channel: "shell") else { continue }
            let sent = (next.header["date"] as? String).flatMap(Self.parseDate)
            if next.type == "execute_request", let sent, sent < failedAt {
                iopub.status("busy", parent: next)
                reply(shell, "execute_reply", ["status": "aborted", "execution_count": executionCount], to: next)
                iopub.status("idle", parent: next)
            } else {
                handleShell(next)
                return
            }
        }
    }

    /// A header date ("2026-11-23T07:05:16.566151Z" or with "+01:00") as a Date; nil otherwise.
    static func parseDate(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count >= 19 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? { Int(String(decoding: u[a..<b], as: UTF8.self)) }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
              let se = num(17, 19) else { return nil }
        var i = 19
        var frac = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            var scale = 0.1
            i += 1
            while i < u.count, (48...57).contains(u[i]) { frac += Double(u[i] - 48) * scale; scale /= 10; i += 1 }
        }
        var offset = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-"), u.count >= i + 6,
           let oh = num(i + 1, i + 3), let om = num(i + 4, i + 6) {
            offset = (oh * 3600 + om * 60) * (u[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        var t = tm()
        t.tm_year = Int32(y - 1900); t.tm_mon = Int32(mo - 1); t.tm_mday = Int32(d)
        t.tm_hour = Int32(h); t.tm_min = Int32(mi); t.tm_sec = Int32(se)
        let seconds = timegm(&t)
        return Date(timeIntervalSince1970: Double(seconds - offset) + frac)
    }

    /// Sends an input_request on the stdin channel to the client that sent `parent` and waits for
    /// its input_reply (nil when the cell is interrupted or the kernel stops meanwhile: `input`
    /// then stops the cell as interrupted). A reply left over from an earlier, interrupted request
    /// is thrown away first, so it cannot answer this one.
    func requestInput(prompt: String, parent: WireMessage) -> String? {
        var dropped = false
        while let stale = stdin.receive(timeoutMs: 0, dropped: &dropped) {
            KernelLog.write("stdin: discarded a message that arrived while no input was asked for (\(stale.count) frames)")
        }
        let request = WireMessage(type: "input_request", content: ["prompt": prompt, "password": false], parent: parent, session: session)
        do { try stdin.send(request.frames(signer: signer)) } catch {
            KernelLog.write("stdin: \(error)")
            return nil
        }
        while !stop.isSet, !interpreter.interruptFlag.isSet {
            guard let frames = stdin.receive(timeoutMs: 100, dropped: &dropped),
                  let msg = parse(frames, channel: "stdin") else { continue }
            if let bytes = msg.oversizedBytes {
                KernelLog.write("stdin: refused a \(msg.type) of \(bytes) bytes (limit \(WireMessage.maxFrameBytes) per frame); input ends")
                return nil
            }
            if msg.type == "input_reply" { return msg.content["value"] as? String ?? "" }
        }
        return nil
    }

    /// Tells the client that comms of an unknown target are not supported: comm_close on IOPub.
    func rejectComm(_ msg: WireMessage) {
        let id = msg.content["comm_id"] as? String ?? ""
        KernelLog.write("comm_open: no target \(msg.content["target_name"] as? String ?? "?"); closing \(id)")
        iopub.publish("comm_close", ["comm_id": id, "data": JSONObject()], parent: msg)
    }
}
