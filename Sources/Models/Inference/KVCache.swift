/// The keys and values a llama has computed so far, per block, so generation feeds one new token
/// at a time instead of the whole sequence. Positions are 0..<count; capacity is fixed at creation.
public struct KVCache: Sendable {
    /// Keys per block: capacity × (kvHeads·headDim), row-major, rows 0..<count valid.
    var keys: [[Float]]
    /// Values per block, laid out as `keys`.
    var values: [[Float]]
    /// Width of one key or value row.
    let width: Int
    /// The most positions the cache holds.
    public let capacity: Int
    /// Positions filled.
    public private(set) var count = 0

    /// An empty cache for `config` holding up to `capacity` positions.
    public init(config: ModelConfig, capacity: Int) {
        width = config.kvHeads * config.headDimension
        self.capacity = capacity
        keys = Array(repeating: [Float](repeating: 0, count: capacity * width), count: config.blockCount)
        values = keys
    }

    /// An empty cache of `blocks` slots of `width`-wide rows (a single block run on its own).
    init(width: Int, capacity: Int, blocks: Int) {
        self.width = width
        self.capacity = capacity
        keys = Array(repeating: [Float](repeating: 0, count: capacity * width), count: blocks)
        values = keys
    }

    /// A cache of no positions (a placeholder while a cache is lent to a batch).
    static var empty: KVCache { KVCache(width: 0, capacity: 0, blocks: 0) }

    /// Marks `n` more positions as filled (after every block wrote them).
    mutating func advance(by n: Int) { count += n }

    /// Forgets every position (the storage is kept).
    public mutating func reset() { count = 0 }
}
