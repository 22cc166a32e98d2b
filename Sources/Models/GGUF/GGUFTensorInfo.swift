/// What a GGUF file says about one tensor: name, dimensions, element type and where its data lies.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.ffn_up.weight`.
    public let name: String
    /// The dimensions as GGUF stores them: innermost (contiguous) first, so HF `[out, in]` is `[in, out]`.
    public let dimensions: [Int]
    /// The element type of the stored data.
    public let type: GGMLType
    /// The data's offset from the start of the file's data section (as stored in the file).
    public let offset: Int
    /// The data's absolute byte offset in the file.
    public let fileOffset: Int
    /// The number of elements (the product of the dimensions).
    public let elementCount: Int
    /// The number of bytes the data takes.
    public let byteCount: Int
    /// The position of this tensor in the file's tensor list.
    public let index: Int
    /// The byte offset in the file where this tensor's info record (its name) starts.
    public let infoOffset: Int

    /// The row-major (numpy / PyTorch) shape, outermost first: the GGUF dimensions reversed.
    public var shape: [Int] { dimensions.reversed() }

    /// The number of columns of the row-major matrix view: the innermost dimension (1 for a scalar).
    public var cols: Int { dimensions.first ?? 1 }

    /// The number of rows of the row-major matrix view: the product of all outer dimensions
    /// (1 for a vector), so a 2-D tensor reads as HF's `[out, in]`.
    public var rows: Int { dimensions.dropFirst().reduce(1, *) }

    /// The row-major matrix view `(rows, cols)`; a 1-D tensor of n elements is 1×n.
    public var matrixShape: (rows: Int, cols: Int) { (rows, cols) }

    /// A tensor info with every field given (the reader checks them against the file).
    public init(name: String, dimensions: [Int], type: GGMLType, offset: Int, fileOffset: Int,
                elementCount: Int, byteCount: Int, index: Int, infoOffset: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.fileOffset = fileOffset
        self.elementCount = elementCount
        self.byteCount = byteCount
        self.index = index
        self.infoOffset = infoOffset
    }

    /// The bytes that `count` elements of `type` take, or nil when `count` is not a whole number of
    /// blocks or the size overflows.
    public static func byteCount(elements count: Int, type: GGMLType) -> Int? {
        guard count >= 0, count % type.blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
        return overflow ? nil : bytes
    }
}
