/// A ggml tensor element type, with the numeric id GGUF files store (as in ggml.h).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22
    case iq4_XS = 23, i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41

    /// The type with ggml id `id`; throws `GGUFError` (kind `.unknownTensorType`) naming the id,
    /// `field` and byte `offset` when ggml has no such type.
    public init(id: UInt32, field: String, offset: Int) throws {
        guard let type = GGMLType(rawValue: id) else {
            throw GGUFError(.unknownTensorType, field: field, offset: offset,
                            "unknown ggml tensor type id \(id)")
        }
        self = type
    }

    /// The super-block size of the K-quants (QK_K).
    public static let superBlock = 256

    /// How the type lays out its elements: one row per type, as gguf-py's `GGML_QUANT_SIZES`
    /// (block size and bytes per block) with the ggml name and whether this library dequantises it.
    /// Every property below reads this table.
    public var layout: GGMLTypeLayout {
        typealias L = GGMLTypeLayout
        let k = Self.superBlock
        switch self {
        // (name, elements per block, bytes per block, whether `dequantize` reads it)
        case .f32:      return L("F32",     1,  4,                                    dequantized: true)
        case .f16:      return L("F16",     1,  2,                                    dequantized: true)
        case .bf16:     return L("BF16",    1,  2,                                    dequantized: true)
        case .i8:       return L("I8",      1,  1)
        case .i16:      return L("I16",     1,  2)
        case .i32:      return L("I32",     1,  4)
        case .i64:      return L("I64",     1,  8)
        case .f64:      return L("F64",     1,  8)
        case .q4_0:     return L("Q4_0",    32, 2 + 16,                               dequantized: true)
        case .q4_1:     return L("Q4_1",    32, 2 + 2 + 16,                           dequantized: true)
        case .q5_0:     return L("Q5_0",    32, 2 + 4 + 16,                           dequantized: true)
        case .q5_1:     return L("Q5_1",    32, 2 + 2 + 4 + 16,                       dequantized: true)
        case .q8_0:     return L("Q8_0",    32, 2 + 32,                               dequantized: true)
        // ggml's block_q8_1: fp16 d, fp16 d·Σq, 32 int8 (gguf-py's table says 40, from an older float layout)
        case .q8_1:     return L("Q8_1",    32, 2 + 2 + 32)
        case .iq4_NL:   return L("IQ4_NL",  32, 2 + 16)
        case .mxfp4:    return L("MXFP4",   32, 1 + 16)
        case .nvfp4:    return L("NVFP4",   64, 4 + 32)
        case .q1_0:     return L("Q1_0",    128, 2 + 16)
        case .q2_K:     return L("Q2_K",    k,  2 + 2 + k / 16 + k / 4,               dequantized: true)
        case .q3_K:     return L("Q3_K",    k,  2 + k / 4 + k / 8 + 12,               dequantized: true)
        case .q4_K:     return L("Q4_K",    k,  2 + 2 + k / 2 + 12,                   dequantized: true)
        case .q5_K:     return L("Q5_K",    k,  2 + 2 + k / 2 + k / 8 + 12,           dequantized: true)
        case .q6_K:     return L("Q6_K",    k,  2 + k / 2 + k / 4 + k / 16,           dequantized: true)
        case .q8_K:     return L("Q8_K",    k,  4 + k + k / 8)
        case .iq2_XXS:  return L("IQ2_XXS", k,  2 + k / 4)
        case .iq2_XS:   return L("IQ2_XS",  k,  2 + k / 4 + k / 32)
        case .iq3_XXS:  return L("IQ3_XXS", k,  2 + k / 4 + k / 8)
        case .iq1_S:    return L("IQ1_S",   k,  2 + k / 8 + k / 16)
        case .iq3_S:    return L("IQ3_S",   k,  2 + k / 4 + k / 8 + k / 32 + 4)
        case .iq2_S:    return L("IQ2_S",   k,  2 + k / 4 + k / 16)
        case .iq4_XS:   return L("IQ4_XS",  k,  2 + 2 + k / 2 + k / 64)
        case .iq1_M:    return L("IQ1_M",   k,  k / 8 + k / 16 + k / 32)
        case .tq1_0:    return L("TQ1_0",   k,  2 + 4 * 13)
        case .tq2_0:    return L("TQ2_0",   k,  2 + 64)
        }
    }

    /// How many elements one block holds (1 for plain types).
    public var blockSize: Int { layout.blockSize }

    /// How many bytes one block takes in the file.
    public var bytesPerBlock: Int { layout.bytesPerBlock }

    /// The name ggml and the `gguf` package use (e.g. "Q4_K", "BF16").
    public var name: String { layout.name }

    /// The type whose ggml name is `name` (case-insensitive), or nil.
    public init?(name: String) {
        let upper = name.uppercased()
        guard let type = Self.allCases.first(where: { $0.name == upper }) else { return nil }
        self = type
    }

    /// Whether this library can dequantise the type to Float32.
    public var canDequantize: Bool { layout.canDequantize }

    /// Whether the type is block-quantised (as opposed to a plain float or integer type).
    public var isQuantized: Bool { blockSize > 1 }

    /// The ggml name, e.g. "Q4_K".
    public var description: String { name }
}

/// One row of the ggml type table: the type's name, how many elements a block holds and how many
/// bytes it takes, and whether this library dequantises it to Float32.
public struct GGMLTypeLayout: Sendable, Equatable {
    /// The ggml name, e.g. "Q4_K".
    public let name: String
    /// Elements per block (1 for plain types, 256 for the K-quants).
    public let blockSize: Int
    /// Bytes per block in the file.
    public let bytesPerBlock: Int
    /// Whether `dequantize` reads this type.
    public let canDequantize: Bool

    init(_ name: String, _ blockSize: Int, _ bytesPerBlock: Int, dequantized: Bool = false) {
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
        self.canDequantize = dequantized
    }
}
