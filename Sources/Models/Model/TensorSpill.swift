import Foundation
import Numerics

/// Weights that a pruner produces but memory cannot hold, kept on disk instead: each `store` call
/// writes a group of matrices (one block's pruned linears, say) as a small GGUF file in a
/// temporary folder, maps it, deletes its name (the mapping keeps the data until the last tensor
/// reading it is gone), and returns tensors that read from that mapping like any loaded GGUF
/// tensor: the quantized forward pass multiplies on their blocks, a save copies or re-encodes
/// them, and their pages are the kernel's to evict. This is how a 7B-shaped model pruned by a
/// calibrated method fits: its Float32 weights (27 GB) do not, its Q8_0 blocks on disk do.
public struct TensorSpill: Sendable {
    /// The `general.type` of a spill file, by which its tensors are recognised (`WeightTensor.isSpilled`).
    public static let fileType = "prunelang-spill"
    /// The folder the files are written in.
    public let folder: String
    /// The type the matrices are stored in.
    public let type: GGMLType

    /// A spill storing in `type` (Q8_0 by default: symmetric, so a pruned weight's zeros stay
    /// exactly zero, and an error of at most half a step of a 32-weight block's max/127) under
    /// `folder` (the system's temporary folder by default).
    public init(type: GGMLType = .q8_0, folder: String = NSTemporaryDirectory()) {
        self.type = type
        self.folder = folder
    }

    /// Bytes `matrices` of these shapes take stored in `type` (nil when a row is not a whole
    /// number of the type's blocks).
    public func storedBytes(shapes: [[Int]]) -> Int? {
        var total = 0
        for s in shapes {
            guard (s.last ?? 1) % type.blockSize == 0,
                  let b = GGUFTensorInfo.byteCount(elements: s.reduce(1, *), type: type) else { return nil }
            total += b
        }
        return total
    }

    /// Writes `matrices` (each with the tensor name it keeps) in `type`, maps the file and returns
    /// one tensor per matrix, in order, reading from the mapping. Throws when a row is not a whole
    /// number of the type's blocks, when the folder lacks the room (checked first: nothing is
    /// written then) or when the file cannot be written or mapped.
    public func store(_ matrices: [(name: String, matrix: Matrix)]) throws -> [WeightTensor] {
        let type = self.type
        let shapes = matrices.map { [$0.matrix.rows, $0.matrix.cols] }
        guard let bytes = storedBytes(shapes: shapes) else {
            let bad = matrices.first { $0.matrix.cols % type.blockSize != 0 }!
            throw ModelError.inconsistent(model: bad.name, detail: "has rows of \(bad.matrix.cols) values, not whole \(type.name) blocks of \(type.blockSize): it cannot be spilled as \(type.name)")
        }
        if let free = try? FileManager.default.attributesOfFileSystem(forPath: folder)[.systemFreeSize] as? Int,
           free < bytes + (64 << 20) {
            throw MemoryBudgetError(work: "keeping \(matrices.count) pruned matrices on disk in \(folder)", needed: bytes,
                                    available: free, advice: "free disk space there, or set TMPDIR to a folder with room")
        }
        let path = (folder as NSString).appendingPathComponent("prunelang-spill-\(getpid())-\(UUID().uuidString).gguf")
        let tensors = matrices.map { m in
            GGUFWriter.Tensor(name: m.name, shape: [m.matrix.rows, m.matrix.cols], type: type) {
                try GGMLQuantizer.encode(m.matrix.data, as: type)
            }
        }
        try GGUFWriter.write(metadata: [("general.type", .string(Self.fileType))], tensors: tensors, to: path)
        defer { unlink(path) }
        let file = try GGUFFile(path: path)
        return try matrices.map { m in
            let info = try file.requireTensor(named: m.name)
            return WeightTensor(name: m.name, shape: [m.matrix.rows, m.matrix.cols], storage: .gguf(file, info))
        }
    }
}

extension WeightTensor {
    /// Whether the tensor reads from a `TensorSpill` file (pruned weights kept on disk).
    public var isSpilled: Bool {
        if case let .gguf(file, _) = storage { return file["general.type"]?.string == TensorSpill.fileType }
        return false
    }
}
