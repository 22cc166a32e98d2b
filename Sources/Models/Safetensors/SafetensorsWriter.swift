import Foundation

/// Writes safetensors files: a header with every tensor's type, shape and byte range (padded
/// with spaces to a multiple of 8), then the tensors back to back. The file is written beside
/// its destination and renamed into place, so a reader never sees half a file.
public enum SafetensorsWriter {
    /// One tensor to write: name, type, shape and its little-endian bytes.
    public struct Entry: Sendable {
        /// The tensor's name.
        public let name: String
        /// The element type of `bytes`.
        public let dtype: SafetensorsDType
        /// The shape, outermost first.
        public let shape: [Int]
        /// The raw little-endian element bytes.
        public let bytes: Data

        /// An entry from raw bytes (their count must match the type and shape).
        public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Data) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// An F32 entry from Float values.
        public init(name: String, shape: [Int], floats: [Float]) {
            self.init(name: name, dtype: .f32, shape: shape,
                      bytes: floats.withUnsafeBufferPointer { Data(buffer: $0) })
        }
    }

    /// Writes `entries` (in this order) and `metadata` to `path` atomically.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to path: String) throws {
        var header = [String: Any]()
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var seen = Set<String>()
        for e in entries {
            guard seen.insert(e.name).inserted else { throw SafetensorsError(e.name, "is given twice") }
            guard e.name != "__metadata__" else { throw SafetensorsError(e.name, "is a reserved name") }
            let expected = e.shape.reduce(1, *) * e.dtype.size
            guard e.shape.allSatisfy({ $0 >= 0 }), e.bytes.count == expected else {
                throw SafetensorsError(e.name, "has \(e.bytes.count) bytes, but \(e.dtype.rawValue) \(e.shape) needs \(expected)")
            }
            header[e.name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]]
            offset += e.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for e in entries { out.append(e.bytes) }
        try AtomicFile.write(out, to: path)
    }
}

extension SafetensorsWriter {
    /// Writes `entries` into `folder` as Hugging Face shards: `model-0000i-of-0000n.safetensors`,
    /// each up to `maxShardBytes` of tensor data (a larger tensor gets a shard of its own), plus
    /// `model.safetensors.index.json` mapping every tensor to its shard. Returns the paths written.
    @discardableResult
    public static func writeSharded(_ entries: [Entry], maxShardBytes: Int, metadata: [String: String] = [:],
                                    folder: String) throws -> [String] {
        guard maxShardBytes > 0 else { throw SafetensorsError("maxShardBytes", "must be positive, got \(maxShardBytes)") }
        var shards = [[Entry]]()
        var size = 0
        for e in entries {
            if shards.isEmpty || (size + e.bytes.count > maxShardBytes && !shards[shards.count - 1].isEmpty) {
                shards.append([]); size = 0
            }
            shards[shards.count - 1].append(e); size += e.bytes.count
        }
        let dir = URL(fileURLWithPath: folder)
        var written = [String]()
        var weightMap = [String: String]()
        for (i, shard) in shards.enumerated() {
            let name = String(format: "model-%05d-of-%05d.safetensors", i + 1, shards.count)
            try write(shard, metadata: metadata, to: dir.appendingPathComponent(name).path)
            for e in shard { weightMap[e.name] = name }
            written.append(dir.appendingPathComponent(name).path)
        }
        let total = entries.reduce(0) { $0 + $1.bytes.count }
        let index: [String: Any] = ["metadata": ["total_size": total], "weight_map": weightMap]
        let indexPath = dir.appendingPathComponent("model.safetensors.index.json").path
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys]), to: indexPath)
        written.append(indexPath)
        return written
    }
}
