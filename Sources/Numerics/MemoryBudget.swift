import Foundation

/// The check made before work that allocates a large amount of memory at once: it compares the
/// bytes the work will need with what the machine (or the container's memory limit) can still
/// give, and refuses with a clear error instead of letting the kernel's out-of-memory killer end
/// the process, and with it a REPL or notebook session.
///
/// The available figure is the smaller of `/proc/meminfo`'s MemAvailable and, when a cgroup v2
/// limit applies, the limit less what the group already uses. Where neither can be read (not
/// Linux) the check passes. `PRUNELANG_MEMORY_LIMIT` (bytes, or with a K/M/G suffix) sets a lower
/// ceiling, so that tests can exercise the refusal on any machine.
public enum MemoryBudget {
    /// Bytes this process can still allocate before the machine runs short, or nil when unknown.
    public static func availableBytes() -> Int? {
        var candidates: [Int] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
            candidates.append(kib * 1024)
        }
        if let limit = readInteger("/sys/fs/cgroup/memory.max"), let used = readInteger("/sys/fs/cgroup/memory.current") {
            candidates.append(max(0, limit - used))
        }
        if let ceiling = ProcessInfo.processInfo.environment["PRUNELANG_MEMORY_LIMIT"].flatMap(parseBytes) {
            candidates.append(ceiling)
        }
        return candidates.min()
    }

    /// Throws `MemoryBudgetError` when `bytes` exceeds what is available. `work` names the work in
    /// the message ("ppl on 'llama-7b'"); `advice` says what the user can do instead.
    public static func require(_ bytes: Int, for work: String, advice: String = "") throws {
        guard let available = availableBytes(), bytes > available else { return }
        throw MemoryBudgetError(work: work, needed: bytes, available: available, advice: advice)
    }

    /// A byte count written as people read it: "25.6 GiB", "812 MiB".
    public static func describe(_ bytes: Int) -> String {
        let gib = Double(bytes) / 1_073_741_824
        if gib >= 1 { return String(format: "%.1f GiB", gib) }
        return String(format: "%.0f MiB", Double(bytes) / 1_048_576)
    }

    /// An integer held in a one-line file ("max" and unreadable files give nil).
    private static func readInteger(_ path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// "3000000", "512M", "2G" or "1.5G" as bytes.
    static func parseBytes(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824]
        if let last = t.last, let unit = units[last], let value = Double(t.dropLast()) { return Int(value * unit) }
        return Int(t)
    }
}

/// Work refused because the memory it needs is more than the machine has available.
public struct MemoryBudgetError: Error, CustomStringConvertible, Equatable {
    /// What was asked for.
    public let work: String
    /// Bytes the work needs.
    public let needed: Int
    /// Bytes available when it was checked.
    public let available: Int
    /// What the user can do instead (may be empty).
    public let advice: String

    /// The refusal of `work`, which needs `needed` bytes where `available` are left.
    public init(work: String, needed: Int, available: Int, advice: String = "") {
        self.work = work
        self.needed = needed
        self.available = available
        self.advice = advice
    }

    public var description: String {
        let base = "\(work) needs about \(MemoryBudget.describe(needed)) of memory and this machine has \(MemoryBudget.describe(available)) available; nothing was started"
        return advice.isEmpty ? base : base + ": " + advice
    }
}
