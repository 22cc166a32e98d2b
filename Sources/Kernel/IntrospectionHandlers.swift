import Foundation
import PruneLang

extension KernelServer {
    /// complete_reply: the registry's and the session's names at the cursor (code points).
    func completeReply(_ content: JSONObject) -> JSONObject {
        let code = content["code"] as? String ?? ""
        let cursor = content["cursor_pos"] as? Int ?? code.unicodeScalars.count
        let c = interpreter.completions(code: code, cursor: cursor)
        return ["status": "ok", "matches": c.matches, "cursor_start": c.start, "cursor_end": c.end, "metadata": JSONObject()]
    }

    /// inspect_reply: the help of the name at the cursor (text and markdown for builtins).
    func inspectReply(_ content: JSONObject) -> JSONObject {
        let code = content["code"] as? String ?? ""
        let cursor = content["cursor_pos"] as? Int ?? code.unicodeScalars.count
        guard let bundle = interpreter.inspect(code: code, cursor: cursor) else {
            return ["status": "ok", "found": false, "data": JSONObject(), "metadata": JSONObject()]
        }
        return ["status": "ok", "found": true, "data": bundle.data, "metadata": JSONObject()]
    }

    /// is_complete_reply: complete, incomplete (with the indent for the next line) or invalid.
    func isCompleteReply(_ content: JSONObject) -> JSONObject {
        switch interpreter.isComplete(content["code"] as? String ?? "") {
        case .complete: return ["status": "complete"]
        case .incomplete(let indent): return ["status": "incomplete", "indent": indent]
        case .invalid: return ["status": "invalid"]
        }
    }

    /// history_reply for tail, range and search requests.
    func historyReply(_ content: JSONObject) -> JSONObject {
        let output = content["output"] as? Bool ?? false
        let n = content["n"] as? Int
        let entries: [HistoryStore.Entry]
        switch content["hist_access_type"] as? String ?? "tail" {
        case "range":
            entries = history.range(session: content["session"] as? Int ?? 0, start: content["start"] as? Int ?? 1,
                                    stop: content["stop"] as? Int)
        case "search":
            entries = history.search(pattern: content["pattern"] as? String ?? "*", n: n, unique: content["unique"] as? Bool ?? false)
        default:
            entries = history.tail(n ?? 10)
        }
        let rows: [[Any]] = entries.map { e in
            output ? [e.session, e.line, [e.input, e.output.map { $0 as Any } ?? NSNull()]] : [e.session, e.line, e.input]
        }
        return ["status": "ok", "history": rows]
    }
}
