import Dispatch
import Numerics

/// Dequantisation of ggml tensor data to Float32, bit-exact with ggml's reference
/// `dequantize_row_*` functions and the `gguf` Python package's `gguf.quants.dequantize`
/// (same float operations in the same order; fp16 scales converted exactly).
public enum GGMLDequantizer {
    /// Turns `blocks` blocks at `source` into `blocks × blockSize` floats at `destination`.
    typealias BlockKernel = @Sendable (_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) -> Void

    /// Tensors with at least this many elements are dequantised on all cores.
    static let parallelThreshold = 1 << 17
    /// Roughly how many elements each parallel work item covers.
    static let chunkElements = 1 << 15

    /// The types `dequantize` accepts.
    public static var supportedTypes: [GGMLType] { GGMLType.allCases.filter(\.canDequantize) }

    /// Dequantises `count` elements of `type` stored in `bytes` into a new array.
    public static func dequantize(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int) throws -> [Float] {
        let kernel = try check(bytes, type: type, count: count)
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            // `check` guarantees a non-empty, large-enough source here.
            if let source = bytes.baseAddress, let destination = out.baseAddress {
                run(kernel, type: type, source: source, destination: destination, count: count)
            }
            initialized = count
        }
    }

    /// Dequantises `count` elements of `type` stored in `bytes` into `output` (at least `count` long).
    public static func dequantize(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int,
                                  into output: UnsafeMutableBufferPointer<Float>) throws {
        let kernel = try check(bytes, type: type, count: count)
        guard output.count >= count else {
            throw GGUFError(.absurdSize, field: "output", offset: nil,
                            "the output buffer holds \(output.count) floats but \(count) are needed")
        }
        guard count > 0, let source = bytes.baseAddress, let destination = output.baseAddress else { return }
        run(kernel, type: type, source: source, destination: destination, count: count)
    }

    /// The kernel for `type` after checking that `bytes` holds `count` whole elements of it.
    private static func check(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int) throws -> BlockKernel {
        guard let kernel = kernel(for: type) else {
            throw GGUFError(.unsupportedType, field: "type", offset: nil,
                            "dequantising \(type.name) is not supported (supported: "
                            + supportedTypes.map(\.name).joined(separator: ", ") + ")")
        }
        guard count >= 0, count % type.blockSize == 0 else {
            throw GGUFError(.invalidShape, field: "element count", offset: nil,
                            "\(count) elements are not a whole number of \(type.name) blocks of \(type.blockSize)")
        }
        guard let needed = GGUFTensorInfo.byteCount(elements: count, type: type), bytes.count >= needed else {
            throw GGUFError(.truncated, field: "data", offset: nil,
                            "\(count) elements of \(type.name) need more than the \(bytes.count) bytes given")
        }
        return kernel
    }

    /// The block kernel for `type`, or nil when it is not supported.
    static func kernel(for type: GGMLType) -> BlockKernel? {
        switch type {
        case .f32: return dequantizeF32
        case .f16: return dequantizeF16
        case .bf16: return dequantizeBF16
        case .q4_0: return dequantizeQ4_0
        case .q4_1: return dequantizeQ4_1
        case .q5_0: return dequantizeQ5_0
        case .q5_1: return dequantizeQ5_1
        case .q8_0: return dequantizeQ8_0
        case .q2_K: return dequantizeQ2_K
        case .q3_K: return dequantizeQ3_K
        case .q4_K: return dequantizeQ4_K
        case .q5_K: return dequantizeQ5_K
        case .q6_K: return dequantizeQ6_K
        default: return nil
        }
    }

    /// Runs `kernel` over all blocks, split into chunks over the cores when the tensor is large.
    private static func run(_ kernel: BlockKernel, type: GGMLType, source: UnsafeRawPointer,
                            destination: UnsafeMutablePointer<Float>, count: Int) {
        let blocks = count / type.blockSize
        guard count >= parallelThreshold else {
            kernel(source, destination, blocks)
            return
        }
        let blocksPerChunk = max(1, chunkElements / type.blockSize)
        let chunks = (blocks + blocksPerChunk - 1) / blocksPerChunk
        let work = ChunkedWork(source: source, destination: destination, blocks: blocks,
                               blocksPerChunk: blocksPerChunk, bytesPerBlock: type.bytesPerBlock,
                               blockSize: type.blockSize)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            work.run(chunk: chunk, kernel)
        }
    }
}

/// The pointers and sizes one parallel dequantisation shares between its work items; each item
/// writes a disjoint range of the destination.
private struct ChunkedWork: @unchecked Sendable {
    let source: UnsafeRawPointer
    let destination: UnsafeMutablePointer<Float>
    let blocks: Int
    let blocksPerChunk: Int
    let bytesPerBlock: Int
    let blockSize: Int

    /// Dequantises the blocks of work item `chunk`.
    func run(chunk: Int, _ kernel: GGMLDequantizer.BlockKernel) {
        let first = chunk * blocksPerChunk
        let n = min(blocksPerChunk, blocks - first)
        guard n > 0 else { return }
        kernel(source + first * bytesPerBlock, destination + first * blockSize, n)
    }
}

/// Float32 values of all 65536 binary16 bit patterns (exact conversions, NaN payloads kept).
let halfToFloatTable: [Float] = (0...0xFFFF).map { HalfPrecision.float(fromHalf: UInt16($0)) }

/// The fp16 value stored little-endian at `p + offset`, converted with the lookup `table`.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int, _ table: UnsafePointer<Float>) -> Float {
    table[Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))]
}

/// Calls `body` with a pointer to the fp16 → Float32 table.
@inline(__always)
func withHalfTable<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
    halfToFloatTable.withUnsafeBufferPointer { body($0.baseAddress.unsafelyUnwrapped) }
}

extension GGMLDequantizer {
    /// F32: the stored bits, copied.
    static func dequantizeF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
    }

    /// F16: each binary16 value widened exactly.
    static func dequantizeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for i in 0..<n { dst[i] = loadHalf(src, 2 * i, table) }
        }
    }

    /// BF16: each value's 16 bits become the top half of a Float32.
    static func dequantizeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let b = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            dst[i] = Float(bitPattern: UInt32(b) << 16)
        }
    }
}
