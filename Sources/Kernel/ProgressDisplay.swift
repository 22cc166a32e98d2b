import Foundation
import Numerics
import PruneLang

/// Progress of long work in a notebook: a display_data with a display id, then
/// update_display_data for the same id as the work goes on (a bar updated in place). Updates are
/// sent at most every 100 ms, plus the last one.
final class ProgressDisplay: @unchecked Sendable {
    private let iopub: IOPubPublisher
    private let parent: WireMessage
    private var displayID: String?
    private var label = ""
    private var lastSent = Date.distantPast
    private var pending: ProgressEvent?
    private let lock = NSLock()

    init(iopub: IOPubPublisher, parent: WireMessage) {
        self.iopub = iopub
        self.parent = parent
    }

    /// Shows or updates the bar for `event`; a new stage (or a restart from 0) starts a new bar.
    func update(_ event: ProgressEvent) {
        lock.lock()
        defer { lock.unlock() }
        let finished = event.total.map { event.done >= $0 } ?? false
        if displayID == nil || event.stage != label || (event.done == 0 && pending == nil && lastSent != .distantPast) {
            flushLocked()
            displayID = UUID().uuidString.lowercased()
            label = event.stage
            send(event, type: "display_data")
            return
        }
        pending = event
        if finished || Date().timeIntervalSince(lastSent) >= 0.1 { flushLocked() }
    }

    /// Sends the last update not yet sent.
    func finish() {
        lock.lock()
        flushLocked()
        lock.unlock()
    }

    private func flushLocked() {
        if let p = pending { send(p, type: "update_display_data") }
        pending = nil
    }

    private func send(_ e: ProgressEvent, type: String) {
        lastSent = Date()
        iopub.publish(type, ["data": Self.bundle(e), "metadata": JSONObject(), "transient": ["display_id": displayID ?? ""]],
                      parent: parent)
    }

    /// The bar as text and HTML.
    static func bundle(_ e: ProgressEvent) -> [String: String] {
        let label = e.detail.map { "\(e.stage) · \($0)" } ?? e.stage
        guard let total = e.total, total > 0 else {
            return ["text/plain": "\(label) \(e.done)", "text/html": "<span>\(XMLEscape.text(label)) \(e.done)</span>"]
        }
        let frac = min(1, max(0, Double(e.done) / Double(total)))
        let width = 30, filled = Int((frac * Double(width)).rounded())
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let pct = Int((frac * 100).rounded())
        return [
            "text/plain": "\(label) \(bar) \(e.done)/\(total) (\(pct)%)",
            "text/html": "<div><span>\(XMLEscape.text(label))</span> <progress value=\"\(e.done)\" max=\"\(total)\" style=\"width:20em\"></progress> \(e.done)/\(total) (\(pct)%)</div>",
        ]
    }
}

/// Escapes text for HTML.
enum XMLEscape {
    /// `&`, `<`, `>` and `"` as entities.
    static func text(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
