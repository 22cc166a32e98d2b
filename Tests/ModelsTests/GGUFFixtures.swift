import Foundation
import Models

/// Locates the GGUF fixtures (written by Tests/fixtures/make_gguf_fixtures.py) and the real
/// SmolLM2 model, and holds the helpers the GGUF tests share.
enum GGUFFixtures {
    /// The folder holding the committed model fixtures.
    static let folder = TestSupport.fixtures

    /// The synthetic GGUF file.
    static let syntheticPath = folder.appendingPathComponent("gguf_synthetic.gguf").path

    /// The real SmolLM2-135M-Instruct Q4_1 GGUF (in $PRUNELANG_MODELS or ./models).
    static let smolLMPath = TestSupport.models
        .appendingPathComponent("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// Whether the real model file is present (scripts/fetch-models puts it there).
    static var hasSmolLM: Bool { FileManager.default.fileExists(atPath: smolLMPath) }

    /// One tensor as the fixture script describes it.
    struct Tensor: Decodable {
        let name: String
        let type: String
        let dims: [Int]
        let count: Int
        let bytes: Int
        let checksum: UInt64
        let type_id: Int?
        let data_offset: Int?
        let expected_offset: Int?
        let first: [Float]?
    }

    /// gguf_synthetic.json.
    struct Synthetic: Decodable {
        let version: Int
        let alignment: Int
        let data_offset: Int
        let metadata_keys: [String]
        let parameter_count: Int
        let tensors: [Tensor]
    }

    /// smollm2-135m.json.
    struct RealModel: Decodable {
        let version: Int
        let tensor_count: Int
        let metadata_count: Int
        let data_offset: Int
        let parameter_count: Int
        let token_count: Int
        let merge_count: Int
        let tensors: [Tensor]
    }

    /// Decodes the JSON fixture `name` as `T`.
    static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// The expected float32 values of the synthetic tensors, back to back, as bit patterns.
    static func expectedBits() throws -> [UInt32] {
        let data = try Data(contentsOf: folder.appendingPathComponent("gguf_synthetic_expected.f32"))
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
        }
    }

    /// A fresh path in the temporary folder, named after `tag`.
    static func temporaryPath(_ tag: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("prunelang-gguf-\(tag)-\(getpid())-\(UUID().uuidString).gguf").path
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], tag: String) throws -> String {
        let path = temporaryPath(tag)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Little-endian byte patching for building malformed GGUF files in tests.
extension Array where Element == UInt8 {
    /// Overwrites the bytes at `offset` with the little-endian bytes of `value`.
    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    /// The little-endian integer at `offset`.
    func get<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: self[offset + i]) << (8 * i) }
        return value
    }

    /// Appends the little-endian bytes of `value`.
    mutating func append<T: FixedWidthInteger>(le value: T) {
        for i in 0..<MemoryLayout<T>.size { append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    /// Appends a GGUF string (uint64 length, UTF-8 bytes).
    mutating func append(ggufString s: String) {
        append(le: UInt64(s.utf8.count))
        append(contentsOf: Array(s.utf8))
    }
}
