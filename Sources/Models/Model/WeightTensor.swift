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
        /// The columns at the given indices of another tensor, read lazily (what structured
        /// pruning makes of a down projection): nothing is dequantised until the values are asked
        /// for, and a save re-encodes it in the source's type when its rows stay whole blocks.
        indirect case columns(of: WeightTensor, [Int])
    }

    /// The tensor's name in the file it came from (or the name it will be written under).
    public let name: String
    /// The shape, outermost first (HF `[out, in]` for a linear layer; `[n]` for a vector).
    public let shape: [Int]
    /// Where the values live.
    public let storage: Storage
    /// Rows to gather on reading (row r of the view is stored row `rowOrder[r]`), used to put
    /// Hugging Face llama query/key rows into GGUF's RoPE order and to keep a subset of a stored
    /// tensor's rows without copying them (structured pruning of gate/up: `shape[0]` is then
    /// `rowOrder.count`); nil reads rows as stored.
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

    /// The tensor whose storage holds the values: this one, or for a view of some columns
    /// (`.columns`) the tensor it views, however deeply views nest.
    public var stored: WeightTensor {
        var t = self
        while case let .columns(base, _) = t.storage { t = base }
        return t
    }

    /// The stored element type's name: a GGML type such as "Q4_1", a safetensors dtype such as
    /// "F32", or "F32" for a tensor in memory.
    public var typeName: String {
        switch storage {
        case let .gguf(_, info): return info.type.name
        case let .safetensors(_, t): return t.dtype.rawValue
        case .dense: return "F32"
        case .columns: return stored.typeName
        }
    }

    /// Bytes the stored form takes (a row view counts its rows' share of the stored tensor).
    public var storedBytes: Int {
        let whole: Int, wholeRows: Int
        switch storage {
        case let .gguf(_, info): (whole, wholeRows) = (info.byteCount, info.rows)
        case let .safetensors(_, t): (whole, wholeRows) = (t.byteRange.count, t.shape.count <= 1 ? 1 : t.shape.dropLast().reduce(1, *))
        case let .dense(m): return m.count * 4
        case let .columns(base, kept): return base.storedBytes / max(1, base.cols) * kept.count
        }
        guard let order = rowOrder, wholeRows > 0 else { return whole }
        return whole / wholeRows * order.count
    }

    /// Whether the stored values are floating-point weights (not an integer buffer such as
    /// BERT's `position_ids`), i.e. whether they count as parameters.
    public var isParameter: Bool {
        switch storage {
        case .gguf, .dense: return true
        case let .safetensors(_, t): return t.dtype.isFloatingWeight
        case let .columns(base, _): return base.isParameter
        }
    }

    /// The values as Float32, row-major (dequantised or converted from the stored type).
    public func floats() throws -> [Float] {
        try matrix().data
    }

    /// The values as a `rows × cols` matrix (a vector as 1×n). A GGUF tensor read through a row
    /// subset dequantises only those rows. Reading a tensor of 16 MiB or more first checks that
    /// memory can hold it (`MemoryBudget`), so a model too large for the machine is refused with a
    /// clear error instead of an out-of-memory kill.
    public func matrix() throws -> Matrix {
        if readBytes >= 16 << 20 {
            try MemoryBudget.require(readBytes, for: "reading \(name) (\(shape.map(String.init).joined(separator: "×")))",
                                     advice: "close other models or work on fewer tensors at a time")
        }
        let m: Matrix
        switch storage {
        case let .gguf(file, info):
            if let order = rowOrder, info.shape.count == 2, info.type.canDequantize {
                return try Matrix(rows: order.count, cols: cols, data: Self.dequantizeRows(order, of: info, in: file))
            }
            let all = try file.dequantize(info)
            m = try Matrix(rows: rowOrder == nil ? rows : all.count / max(1, cols), cols: cols, data: all)
        case let .safetensors(file, t):
            let all = try file.floats(of: t)
            m = try Matrix(rows: rowOrder == nil ? rows : all.count / max(1, cols), cols: cols, data: all)
        case let .dense(d): m = d.rows == rows && d.cols == cols ? d : try Matrix(rows: rows, cols: cols, data: d.data)
        case let .columns(base, kept): return try base.matrix().columns(kept)
        }
        guard let order = rowOrder else { return m }
        return try m.rows(order)
    }

    /// Bytes of Float32 values reading this tensor allocates at its peak (a column view reads
    /// its whole source first).
    public var readBytes: Int {
        switch storage {
        case let .columns(base, _): return base.readBytes + elementCount * 4
        case let .gguf(_, info) where rowOrder != nil && info.shape.count == 2 && info.type.canDequantize:
            return elementCount * 4   // only the kept rows are dequantised
        case let .gguf(_, info): return info.elementCount * 4 + (rowOrder == nil ? 0 : elementCount * 4)
        case let .safetensors(_, t): return t.elementCount * 4 + (rowOrder == nil ? 0 : elementCount * 4)
        case .dense: return elementCount * 4
        }
    }

    /// The rows `order` of a 2-D GGUF tensor, dequantised row by row (rows are whole blocks).
    static func dequantizeRows(_ order: [Int], of info: GGUFTensorInfo, in file: GGUFFile) throws -> [Float] {
        let cols = info.cols, rowBytes = info.byteCount / max(1, info.rows)
        var out = [Float](repeating: 0, count: order.count * cols)
        let raw = try file.rawBytes(of: info)
        try raw.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { dst in
                for (r, stored) in order.enumerated() {
                    guard stored >= 0, stored < info.rows else {
                        throw ModelError.inconsistent(model: info.name, detail: "row \(stored) is outside 0..<\(info.rows)")
                    }
                    try GGMLDequantizer.dequantize(UnsafeRawBufferPointer(rebasing: src[(stored * rowBytes)..<((stored + 1) * rowBytes)]),
                                                   type: info.type, count: cols,
                                                   into: UnsafeMutableBufferPointer(rebasing: dst[(r * cols)..<((r + 1) * cols)]))
                }
            }
        }
        return out
    }

    /// This tensor's rows at `indices` (in that order), without reading any values: a row view of
    /// the same stored tensor (a matrix in memory is copied).
    public func selectingRows(_ indices: [Int]) throws -> WeightTensor {
        guard shape.count == 2 else { throw ModelError.inconsistent(model: name, detail: "rows of a \(shape.count)-D tensor") }
        if let bad = indices.first(where: { $0 < 0 || $0 >= rows }) {
            throw ModelError.inconsistent(model: name, detail: "row \(bad) is outside 0..<\(rows)")
        }
        let newShape = [indices.count, cols]
        switch storage {
        case .gguf, .safetensors:
            let order = rowOrder.map { o in indices.map { o[$0] } } ?? indices
            return WeightTensor(name: name, shape: newShape, storage: storage, rowOrder: order)
        case .dense:
            return WeightTensor(name: name, matrix: try matrix().rows(indices))
        case let .columns(base, kept):
            return WeightTensor(name: name, shape: newShape, storage: .columns(of: try base.selectingRows(indices), kept))
        }
    }

    /// This tensor's columns at `indices` (in that order), without reading any values (a matrix
    /// in memory is copied).
    public func selectingColumns(_ indices: [Int]) throws -> WeightTensor {
        guard shape.count == 2 else { throw ModelError.inconsistent(model: name, detail: "columns of a \(shape.count)-D tensor") }
        if let bad = indices.first(where: { $0 < 0 || $0 >= cols }) {
            throw ModelError.inconsistent(model: name, detail: "column \(bad) is outside 0..<\(cols)")
        }
        let newShape = [rows, indices.count]
        switch storage {
        case .gguf, .safetensors:
            return WeightTensor(name: name, shape: newShape, storage: .columns(of: self, indices))
        case .dense:
            return WeightTensor(name: name, matrix: try matrix().columns(indices))
        case let .columns(base, kept):
            return WeightTensor(name: name, shape: newShape, storage: .columns(of: base, indices.map { kept[$0] }))
        }
    }

    /// This tensor with its values replaced by `matrix` held in memory (same name; the shape
    /// follows the matrix, kept one-dimensional when this tensor is a vector).
    public func replacing(with matrix: Matrix) -> WeightTensor {
        WeightTensor(name: name, matrix: matrix, isVector: shape.count == 1)
    }
}
