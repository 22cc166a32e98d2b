import Foundation
import Numerics

/// One weight tensor of a model, read lazily: it remembers where its values live (a GGUF tensor,
/// a safetensors tensor, or a matrix in memory after pruning) and dequantises only when asked,
/// so a model opens without reading its weights and memory holds one tensor at a time.
public struct WeightTensor: Sendable {
    /// Where the values live.
    public enum Storage: Sendable {
        /// A tensor of a memory-mapped GGUF file (any GGML type).
        case gguf(GGUFFile, GGUFTensorInfo)
        /// A tensor of a memory-mapped safetensors file.
        case safetensors(SafetensorsFile, SafetensorsTensor)
        /// Float32 values in memory, row-major (what pruning produces).
        case dense(Matrix)
    }

    /// The tensor's name in the file it came from (or the name it will be written under).
    public let name: String
    /// The shape, outermost first (HF `[out, in]` for a linear layer; `[n]` for a vector).
    public let shape: [Int]
    /// Where the values live.
    public let storage: Storage
    /// Rows to gather on reading (row r of the view is stored row `rowOrder[r]`), used to put
    /// Hugging Face llama query/key rows into GGUF's RoPE order; nil reads rows as stored.
    public let rowOrder: [Int]?

    /// A tensor of `shape` stored in `storage`, optionally read with rows gathered by `rowOrder`.
    public init(name: String, shape: [Int], storage: Storage, rowOrder: [Int]? = nil) {
        self.name = name
        self.shape = shape
        self.storage = storage
        self.rowOrder = rowOrder
    }

    /// A tensor held in memory.
    public init(name: String, matrix: Matrix, isVector: Bool = false) {
        self.init(name: name, shape: isVector ? [matrix.count] : [matrix.rows, matrix.cols], storage: .dense(matrix))
    }

    /// The number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Rows when read as a matrix (outer dimensions folded; 1 for a vector).
    public var rows: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
    /// Columns when read as a matrix (the innermost dimension).
    public var cols: Int { shape.last ?? 1 }

    /// The stored element type's name: a GGML type such as "Q4_1", a safetensors dtype such as
    /// "F32", or "F32" for a tensor in memory.
    public var typeName: String {
        switch storage {
        case let .gguf(_, info): return info.type.name
        case let .safetensors(_, t): return t.dtype.rawValue
        case .dense: return "F32"
        }
    }

    /// Bytes the stored form takes.
    public var storedBytes: Int {
        switch storage {
        case let .gguf(_, info): return info.byteCount
        case let .safetensors(_, t): return t.byteRange.count
        case let .dense(m): return m.count * 4
        }
    }

    /// Whether the stored values are floating-point weights (not an integer buffer such as
    /// BERT's `position_ids`), i.e. whether they count as parameters.
    public var isParameter: Bool {
        switch storage {
        case .gguf, .dense: return true
        case let .safetensors(_, t): return t.dtype.isFloatingWeight
        }
    }

    /// The values as Float32, row-major (dequantised or converted from the stored type).
    public func floats() throws -> [Float] {
        try matrix().data
    }

    /// The values as a `rows × cols` matrix (a vector as 1×n).
    public func matrix() throws -> Matrix {
        let m: Matrix
        switch storage {
        case let .gguf(file, info): m = try Matrix(rows: rows, cols: cols, data: file.dequantize(info))
        case let .safetensors(file, t): m = try Matrix(rows: rows, cols: cols, data: file.floats(of: t))
        case let .dense(d): m = d.rows == rows && d.cols == cols ? d : try Matrix(rows: rows, cols: cols, data: d.data)
        }
        guard let order = rowOrder else { return m }
        return m.reorderingRows(order)
    }

    /// This tensor with its values replaced by `matrix` held in memory (same name; the shape
    /// follows the matrix, kept one-dimensional when this tensor is a vector).
    public func replacing(with matrix: Matrix) -> WeightTensor {
        WeightTensor(name: name, matrix: matrix, isVector: shape.count == 1)
    }
}
