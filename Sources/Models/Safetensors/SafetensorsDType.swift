/// The element types a safetensors header may name; PruneLang reads F32, F16, BF16 (and F64)
/// as weights and accounts the rest (integer buffers such as BERT's `position_ids`) by size only.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// Whether PruneLang decodes this type to Float (a weight rather than a buffer).
    public var isFloatingWeight: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }
}
