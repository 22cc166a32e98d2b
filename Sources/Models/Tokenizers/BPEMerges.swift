/// The byte-pair merge table of a byte-level BPE vocabulary, keyed on integer token pairs, and
/// the merge loop llama.cpp runs inside each pre-tokenized word: repeatedly merge the adjacent
/// pair with the lowest rank (the leftmost one among equals) until no pair has a rank.
struct BPEMerges: Sendable {
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    private var table: [UInt64: UInt64] = [:]

    /// The number of distinct pairs.
    var count: Int { table.count }

    /// Records that `left` + `right` merge into `merged` at `rank`, unless the pair already has a
    /// rank (the first occurrence wins, as in llama.cpp).
    mutating func add(left: Int32, right: Int32, merged: Int32, rank: Int32) {
        let key = Self.key(left, right)
        if table[key] == nil {
            table[key] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
        }
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// The rank and merged id of the pair, or nil when the pair does not merge.
    @inline(__always)
    func lookup(_ a: Int32, _ b: Int32) -> (rank: Int32, merged: Int32)? {
        guard let v = table[Self.key(a, b)] else { return nil }
        return (Int32(bitPattern: UInt32(truncatingIfNeeded: v >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
    }

    /// Merges the symbols `syms` (token ids, one per byte to start with) in place.
    func merge(_ syms: inout [Int32]) {
        if syms.count < 2 { return }
        if syms.count <= 48 { mergeSmall(&syms) } else { mergeLarge(&syms) }
    }

    /// Short words: keep each adjacent pair's rank in an array and scan it for the minimum.
    private func mergeSmall(_ syms: inout [Int32]) {
        let none = Int32.max
        var ranks = [Int32](repeating: none, count: syms.count - 1)
        var merged = [Int32](repeating: 0, count: syms.count - 1)
        for i in 0..<(syms.count - 1) {
            if let m = lookup(syms[i], syms[i + 1]) { ranks[i] = m.rank; merged[i] = m.merged }
        }
        while true {
            var best = none, at = -1
            for i in 0..<ranks.count where ranks[i] < best { best = ranks[i]; at = i }
            if at < 0 { return }
            syms[at] = merged[at]
            syms.remove(at: at + 1)
            ranks.remove(at: at)
            merged.remove(at: at)
            if at > 0 {
                if let m = lookup(syms[at - 1], syms[at]) { ranks[at - 1] = m.rank; merged[at - 1] = m.merged }
                else { ranks[at - 1] = none }
            }
            if at < ranks.count {
                if let m = lookup(syms[at], syms[at + 1]) { ranks[at] = m.rank; merged[at] = m.merged }
                else { ranks[at] = none }
            }
        }
    }

    /// One candidate merge in the priority queue of `mergeLarge`.
    private struct Candidate {
        var rank: Int32, left: Int32, leftID: Int32, rightID: Int32, merged: Int32
        @inline(__always) func before(_ o: Candidate) -> Bool {
            rank < o.rank || (rank == o.rank && left < o.left)
        }
    }

    /// Long words: a linked list of symbols and a binary heap of candidate pairs ordered by
    /// (rank, position), with stale candidates skipped when popped (as llama.cpp does).
    private func mergeLarge(_ syms: inout [Int32]) {
        let n = syms.count
        var ids = syms
        var next = (0..<n).map { Int32($0 + 1) }
        var prev = (0..<n).map { Int32($0 - 1) }
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap: [Candidate] = []
        heap.reserveCapacity(n)

        func push(_ c: Candidate) {
            heap.append(c)
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if heap[i].before(heap[p]) { heap.swapAt(i, p); i = p } else { break }
            }
        }
        func pop() -> Candidate {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && heap[l].before(heap[m]) { m = l }
                    if r < heap.count && heap[r].before(heap[m]) { m = r }
                    if m == i { break }
                    heap.swapAt(i, m); i = m
                }
            }
            return top
        }
        func consider(_ left: Int32) {
            guard left >= 0 else { return }
            let right = next[Int(left)]
            guard right >= 0 else { return }
            let a = ids[Int(left)], b = ids[Int(right)]
            if let m = lookup(a, b) {
                push(Candidate(rank: m.rank, left: left, leftID: a, rightID: b, merged: m.merged))
            }
        }

        for i in 0..<(n - 1) { consider(Int32(i)) }
        while !heap.isEmpty {
            let c = pop()
            let l = Int(c.left)
            guard alive[l], ids[l] == c.leftID else { continue }
            let r = Int(next[l])
            guard r >= 0, alive[r], ids[r] == c.rightID else { continue }
            ids[l] = c.merged
            alive[r] = false
            next[l] = next[r]
            if next[r] >= 0 { prev[Int(next[r])] = Int32(l) }
            consider(prev[l])
            consider(Int32(l))
        }
        syms.removeAll(keepingCapacity: true)
        var i: Int32 = 0
        while i >= 0 { syms.append(ids[Int(i)]); i = next[Int(i)] }
    }
}
