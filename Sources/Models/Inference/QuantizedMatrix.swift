import CQuant
import Foundation
import Numerics
import Synchronization

/// A weight matrix (rows × cols, row-major) held only as its stored GGUF blocks: the file's
/// bytes memory-mapped in place (or copied, when rows must be gathered), never a Float32 copy.
/// What the quantized arithmetic (`ForwardArithmetic.quantized`) multiplies on, and what the
/// embedding of a quantised-only model reads a row at a time.
///
/// Products y = x·Wᵀ: for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K and Q6_K the activation rows are
/// quantised to 8-bit blocks of 32 and dotted with the stored blocks in integers
/// (`plq_qmatmul_parallel`; Q4_0 / Q4_1 / Q8_0 on llama.cpp's own kernels, so those products equal
/// `LlamaCppLinear`'s). Any other stored type is dequantised a chunk of rows at a time (about a
/// megabyte) and multiplied with BLAS, so memory never holds the whole matrix in Float32.
public struct QuantizedMatrix: Sendable {
    /// Where the blocks live.
    enum Bytes: Sendable {
        /// The tensor's bytes inside the mapped GGUF file (no copy).
        case mapped(MappedBytes)
        /// A copy, rows already in the view's order.
        case owned([UInt8])
    }

    /// The stored ggml type.
    public let type: GGMLType
    /// Rows (outputs) and columns (inputs).
    public let rows: Int, cols: Int
    /// Bytes per row.
    public let rowBytes: Int
    /// The kernel code its integer products run with (`LlamaCppArithmetic.kernelCode`).
    let kernel: Int32
    let bytes: Bytes

    /// The blocks of `tensor` (a GGUF tensor of a quantised or half type, not F32); nil for any
    /// other storage, for F32 (Float32 is already its stored form) and for types this project cannot
    /// dequantise.
    public init?(_ tensor: WeightTensor) throws {
        guard case let .gguf(file, info) = tensor.storage, info.type != .f32, info.type.canDequantize,
              tensor.cols % info.type.blockSize == 0 else { return nil }
        type = info.type
        rows = tensor.rows
        cols = tensor.cols
        kernel = LlamaCppArithmetic.kernelCode(info.type, rows: tensor.rows)
        let rowBytes = cols / info.type.blockSize * info.type.bytesPerBlock
        self.rowBytes = rowBytes
        let raw = try file.rawBytes(of: info)
        precondition(raw.count >= rows * rowBytes, "a GGUF tensor's data holds its rows")
        if let order = tensor.rowOrder {
            var copy = [UInt8](repeating: 0, count: rows * rowBytes)
            raw.withUnsafeBytes { src in
                copy.withUnsafeMutableBytes { dst in
                    for (r, stored) in order.enumerated() {
                        (dst.baseAddress! + r * rowBytes).copyMemory(from: src.baseAddress! + stored * rowBytes, byteCount: rowBytes)
                    }
                }
            }
            bytes = .owned(copy)
        } else {
            bytes = .mapped(raw)
        }
    }

    /// A matrix of `rows` rows of `cols` values stored as `type` in `bytes` (rows of whole blocks).
    init(type: GGMLType, rows: Int, cols: Int, bytes: [UInt8]) {
        precondition(cols % type.blockSize == 0 && bytes.count == rows * cols / type.blockSize * type.bytesPerBlock,
                     "\(rows) rows of \(cols) \(type.name) values")
        self.type = type
        self.rows = rows
        self.cols = cols
        rowBytes = cols / type.blockSize * type.bytesPerBlock
        kernel = LlamaCppArithmetic.kernelCode(type, rows: rows)
        self.bytes = .owned(bytes)
    }

    /// How many times these blocks (this matrix and its copies) have been dequantised whole
    /// (`dequantized`): the forward pass in the quantized arithmetic never does, and tests check
    /// that. Counted per matrix, so work on other models in the same process does not show here.
    public var wholeDequantizations: Int { dequantizations.count.withLock { $0 } }
    private let dequantizations = DequantizationCount()

    /// Bytes of the blocks (what this matrix adds to the process once its pages are read).
    public var storedBytes: Int { rows * rowBytes }

    /// Whether products run on integer kernels (else on row chunks dequantised for BLAS).
    public var hasIntegerKernel: Bool { plq_activation_sum(kernel) >= 0 && cols % 32 == 0 }

    /// Calls `body` with the first row's address.
    func withBlocks<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        switch bytes {
        case let .mapped(m): return try m.withUnsafeBytes { try body($0.baseAddress!) }
        case let .owned(a): return try a.withUnsafeBytes { try body($0.baseAddress!) }
        }
    }

    /// Rows `range` dequantised into `out` (range.count × cols floats).
    public func dequantizeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) of a \(rows)-row matrix")
        guard !range.isEmpty else { return }
        withBlocks { base in
            let src = UnsafeRawBufferPointer(start: base + range.lowerBound * rowBytes, count: range.count * rowBytes)
            // The type and the byte count were checked when the matrix was made.
            try! GGMLDequantizer.dequantize(src, type: type, count: range.count * cols,
                                            into: UnsafeMutableBufferPointer(start: out, count: range.count * cols))
        }
    }

    /// The whole matrix in Float32 (for pruners and the backward pass: allocates rows × cols floats).
    public func dequantized() -> Matrix {
        dequantizations.count.withLock { $0 += 1 }
        var m = Matrix(rows: rows, cols: cols)
        m.data.withUnsafeMutableBufferPointer { p in dequantizeRows(0..<rows, into: p.baseAddress!) }
        return m
    }

    /// out (+)= x·Wᵀ for `t` activation rows x (t × cols) into out (t × rows); adds when `accumulate`.
    func multiply(_ x: UnsafePointer<Float>, rows t: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        guard t > 0, rows > 0, cols > 0 else { return }
        if hasIntegerKernel {
            let quantized = Self.quantizeActivations(x, rows: t, cols: cols, sum: plq_activation_sum(kernel))
            withBlocks { w in
                quantized.withUnsafeBufferPointer { q in
                    _ = plq_qmatmul_parallel(kernel, w.assumingMemoryBound(to: UInt8.self), Int64(rowBytes), 0, Int64(rows), Int64(cols),
                                             q.baseAddress!, Int64(t), out, Int64(rows), accumulate ? 1 : 0)
                }
            }
            return
        }
        // Row chunks of about a megabyte, dequantised and multiplied with BLAS.
        let chunk = max(4, min(rows, (1 << 18) / cols))
        var scratch = [Float](repeating: 0, count: chunk * cols)
        scratch.withUnsafeMutableBufferPointer { s in
            var r0 = 0
            while r0 < rows {
                let r1 = min(rows, r0 + chunk)
                dequantizeRows(r0..<r1, into: s.baseAddress!)
                StridedBLAS.gemm(transB: true, m: t, n: r1 - r0, k: cols, a: x, lda: cols, b: s.baseAddress!, ldb: cols,
                                 beta: accumulate ? 1 : 0, c: out + r0, ldc: rows)
                r0 = r1
            }
        }
    }
}

extension QuantizedMatrix {
    /// `t` activation rows x (t × cols) quantised to 8-bit blocks of 32 in the form `sum` of
    /// `plq_quantize_row` (rows split over the cores for a window).
    static func quantizeActivations(_ x: UnsafePointer<Float>, rows t: Int, cols: Int, sum: Int32) -> [plq_block_q8] {
        let blocks = cols / 32
        var quantized = [plq_block_q8](repeating: plq_block_q8(), count: blocks * t)
        quantized.withUnsafeMutableBufferPointer { q in
            let qp = UncheckedSendable(q.baseAddress!), xp = UncheckedSendable(x)
            if t >= 64 {
                ForwardKernels.parallelRows(t) { i in plq_quantize_row(xp.value + i * cols, qp.value + i * blocks, Int64(cols), sum) }
            } else {
                for i in 0..<t { plq_quantize_row(x + i * cols, q.baseAddress! + i * blocks, Int64(cols), sum) }
            }
        }
        return quantized
    }

    /// outs[i] = x·W_iᵀ (t × matrices[i].rows each) for matrices that share the input x (t × cols,
    /// every matrix on an integer kernel and `cols` wide): x quantised once per block form, and all
    /// the products in one parallel region (`plq_qmatmul_many`), so a decode step starts and waits
    /// for the pool once per group of layers instead of once per layer. Same results as
    /// `multiply` on each.
    static func multiply(_ matrices: [QuantizedMatrix], _ x: UnsafePointer<Float>, rows t: Int, into outs: [UnsafeMutablePointer<Float>]) {
        precondition(matrices.count == outs.count && matrices.allSatisfy { $0.hasIntegerKernel && $0.cols == matrices[0].cols },
                     "products on one input need integer kernels and one width")
        guard t > 0, let cols = matrices.first?.cols else { return }
        // The activation rows in each block form the matrices need, one form after another.
        let sums = matrices.map { plq_activation_sum($0.kernel) }
        var forms: [Int32] = []
        for sum in sums where !forms.contains(sum) { forms.append(sum) }
        let perForm = t * (cols / 32)
        let quantized = forms.flatMap { quantizeActivations(x, rows: t, cols: cols, sum: $0) }
        withBlocks(of: matrices[...]) { blocks in
            quantized.withUnsafeBufferPointer { q in
                let products = matrices.indices.map { i in
                    plq_product(type: matrices[i].kernel, weights: blocks[i].assumingMemoryBound(to: UInt8.self),
                                row_bytes: Int64(matrices[i].rowBytes), rows: Int64(matrices[i].rows), cols: Int64(cols),
                                x: q.baseAddress! + forms.firstIndex(of: sums[i])! * perForm, count: Int64(t),
                                out: outs[i], ldo: Int64(matrices[i].rows), accumulate: 0)
                }
                _ = plq_qmatmul_many(products, Int32(products.count))
            }
        }
    }

    /// Calls `body` with the first row's address of every matrix (all valid for the call).
    private static func withBlocks<R>(of matrices: ArraySlice<QuantizedMatrix>, _ held: [UnsafeRawPointer] = [],
                                      _ body: ([UnsafeRawPointer]) -> R) -> R {
        guard let first = matrices.first else { return body(held) }
        return first.withBlocks { withBlocks(of: matrices.dropFirst(), held + [$0], body) }
    }
}

/// The count behind `QuantizedMatrix.wholeDequantizations`, shared by a matrix's copies.
private final class DequantizationCount: Sendable {
    let count = Mutex(0)
}
