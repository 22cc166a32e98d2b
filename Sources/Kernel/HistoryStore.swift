import Foundation

/// The kernel's input history, kept across restarts in a JSON-lines file: one entry per stored
/// cell, `[session, line, input, output]` (output: the result's text, or null). Each kernel start
/// is a new session numbered one past the highest in the file.
final class HistoryStore {
    /// One stored cell.
    struct Entry: Equatable {
        var session: Int
        var line: Int
        var input: String
        var output: String?
    }

    private(set) var entries: [Entry] = []
    /// This kernel's session number.
    let session: Int
    private let path: String?
    /// Entries kept in memory and read back (older ones stay in the file but are not searched).
    static let maxEntries = 10_000

    /// Opens (or starts) the history at `path`; nil keeps it in memory only.
    init(path: String?) {
        self.path = path
        if let path, let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let a = try? JSONSerialization.jsonObject(with: Data(line)) as? [Any], a.count >= 3,
                      let s = a[0] as? Int, let n = a[1] as? Int, let input = a[2] as? String else { continue }
                entries.append(Entry(session: s, line: n, input: input, output: a.count > 3 ? a[3] as? String : nil))
            }
            if entries.count > Self.maxEntries { entries.removeFirst(entries.count - Self.maxEntries) }
        }
        session = (entries.map(\.session).max() ?? 0) + 1
    }

    /// Where history lives by default: `$PRUNELANG_KERNEL_HISTORY`, else
    /// `$XDG_DATA_HOME/prunelang/kernel-history.jsonl` (`~/.local/share` when unset).
    static func defaultPath() -> String {
        let env = ProcessInfo.processInfo.environment
        if let p = env["PRUNELANG_KERNEL_HISTORY"], !p.isEmpty { return p }
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".local/share")
        return (base as NSString).appendingPathComponent("prunelang/kernel-history.jsonl")
    }

    /// Stores cell `line` of this session.
    func append(line: Int, input: String, output: String?) {
        let e = Entry(session: session, line: line, input: input, output: output)
        entries.append(e)
        guard let path else { return }
        let row: [Any] = [e.session, e.line, e.input, e.output.map { $0 as Any } ?? NSNull()]
        guard var data = try? JSONSerialization.data(withJSONObject: row) else { return }
        data.append(UInt8(ascii: "\n"))
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        _ = try? h.seekToEnd()
        try? h.write(contentsOf: data)
    }

    /// The last `n` entries.
    func tail(_ n: Int) -> [Entry] { Array(entries.suffix(max(0, n))) }

    /// Entries of `session` (0 or negative: this session counting back) with lines in start..<stop
    /// (stop 0 or absent: to the end).
    func range(session s: Int, start: Int, stop: Int?) -> [Entry] {
        let wanted = s <= 0 ? session + s : s
        let end = (stop ?? 0) > 0 ? stop! : Int.max
        return entries.filter { $0.session == wanted && $0.line >= start && $0.line < end }
    }

    /// Entries whose input matches the glob `pattern` (`*`, `?`, `[...]`), the last `n` of them
    /// (all when nil); with `unique`, each input once (its latest occurrence).
    func search(pattern: String, n: Int?, unique: Bool) -> [Entry] {
        var found = entries.filter { Self.glob(pattern, matches: $0.input) }
        if unique {
            var seen = Set<String>()
            found = found.reversed().filter { seen.insert($0.input).inserted }.reversed()
        }
        if let n, n > 0 { found = Array(found.suffix(n)) }
        return found
    }

    /// Whether `text` matches the glob `pattern` as a whole.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        // Iterative matcher with backtracking to the last `*`.
        var pi = 0, ti = 0, star = -1, mark = 0
        func matchOne(_ pi: Int, _ c: Character) -> (Bool, Int)? {
            if p[pi] == "?" { return (true, pi + 1) }
            if p[pi] == "[", let close = p[(pi + 1)...].firstIndex(of: "]") {
                var set = Array(p[(pi + 1)..<close])
                let negate = set.first == "!" || set.first == "^"
                if negate { set.removeFirst() }
                var hit = false
                var k = 0
                while k < set.count {
                    if k + 2 < set.count, set[k + 1] == "-" { if set[k] <= c && c <= set[k + 2] { hit = true }; k += 3 }
                    else { if set[k] == c { hit = true }; k += 1 }
                }
                return (hit != negate, close + 1)
            }
            return (p[pi] == c, pi + 1)
        }
        while ti < t.count {
            if pi < p.count, p[pi] == "*" { star = pi; mark = ti; pi += 1; continue }
            if pi < p.count, let (ok, next) = matchOne(pi, t[ti]), ok { pi = next; ti += 1; continue }
            if star >= 0 { pi = star + 1; mark += 1; ti = mark; continue }
            return false
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
