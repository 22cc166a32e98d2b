import Foundation

/// What a model holds, in numbers a table can show: parameters by role and in total, the shapes
/// and stored types of each role's tensors, and the file size. The language layer renders it as
/// a text or HTML table; `lines` gives a plain-text form for programs without the Plots module.
public struct ModelSummary: Sendable {
    /// One role (weight or bias) across every block that has it.
    public struct RoleRow: Sendable, Equatable {
        /// The role, e.g. "ffnUp".
        public var role: TensorRole
        /// Weight or bias.
        public var part: TensorPart
        /// How many tensors play this role (one per block for per-block roles).
        public var tensors: Int
        /// Their elements in total.
        public var parameters: Int
        /// Their distinct shapes, e.g. "[1536, 576]" (or "[1229…1536, 576]" when blocks differ).
        public var shape: String
        /// Their distinct stored types, e.g. "Q4_1".
        public var types: String
    }

    /// The model's display name.
    public var name: String
    /// llama or bert.
    public var architecture: Architecture
    /// The format it was read from.
    public var format: ModelFormat
    /// Blocks.
    public var blocks: Int
    /// Width of the residual stream.
    public var hiddenSize: Int
    /// FFN widths, one per block.
    public var intermediateSizes: [Int]
    /// Parameters in total (floating-point tensors).
    public var parameters: Int
    /// Elements of integer buffers (not parameters).
    public var bufferElements: Int
    /// Bytes of the source file(s).
    public var fileSize: Int
    /// One row per role and part, in the order of `TensorRole`, then other tensors.
    public var rows: [RoleRow]
    /// Tensors with no role: (name, shape, type, elements).
    public var others: [(name: String, shape: [Int], type: String, elements: Int)]

    /// The summary of `model`.
    public init(_ model: Model) {
        name = model.name
        architecture = model.config.architecture
        format = model.format
        blocks = model.config.blockCount
        hiddenSize = model.config.hiddenSize
        intermediateSizes = model.config.intermediateSizes
        parameters = model.parameterCount
        bufferElements = model.bufferElementCount
        fileSize = model.fileSize
        var rows = [RoleRow]()
        for role in TensorRole.allCases {
            for part in [TensorPart.weight, .bias] {
                let ts = model.tensors.filter { $0.key.role == role && $0.key.part == part }.map(\.value)
                guard !ts.isEmpty else { continue }
                rows.append(RoleRow(role: role, part: part, tensors: ts.count,
                                    parameters: ts.reduce(0) { $0 + $1.elementCount },
                                    shape: Self.shapeRange(ts.map(\.shape)),
                                    types: Set(ts.map(\.typeName)).sorted().joined(separator: ", ")))
            }
        }
        self.rows = rows
        others = model.otherTensors.map { ($0.name, $0.shape, $0.typeName, $0.elementCount) }
    }

    /// Shapes as one string: identical shapes once, differing dimensions as "lo…hi".
    static func shapeRange(_ shapes: [[Int]]) -> String {
        guard let first = shapes.first else { return "" }
        guard shapes.allSatisfy({ $0.count == first.count }) else { return "mixed ranks" }
        let dims = (0..<first.count).map { i -> String in
            let values = shapes.map { $0[i] }
            let lo = values.min()!, hi = values.max()!
            return lo == hi ? "\(lo)" : "\(lo)…\(hi)"
        }
        return "[" + dims.joined(separator: ", ") + "]"
    }

    /// A parameter count in short form: 134.5M, 22.7M, 1.2B, 576.
    public static func shortCount(_ n: Int) -> String {
        let x = Double(n)
        if x >= 1e9 { return String(format: "%.2fB", x / 1e9) }
        if x >= 1e6 { return String(format: "%.2fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.1fK", x / 1e3) }
        return "\(n)"
    }

    /// A byte count in short form: 93.8 MiB.
    public static func shortBytes(_ n: Int) -> String {
        let x = Double(n)
        let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
        if x >= gib { return String(format: "%.2f GiB", x / gib) }
        if x >= mib { return String(format: "%.1f MiB", x / mib) }
        if x >= kib { return String(format: "%.1f KiB", x / kib) }
        return "\(n) B"
    }

    /// The FFN widths in words: "1536" when every block agrees, else "min…max (per block)".
    public var ffnWidthDescription: String {
        let lo = intermediateSizes.min() ?? 0, hi = intermediateSizes.max() ?? 0
        return lo == hi ? "\(lo)" : "\(lo)…\(hi) (per block)"
    }

    /// The heading line: name, architecture, blocks, widths, parameters, file size.
    public var heading: String {
        "\(name): \(architecture.rawValue), \(blocks) blocks, d=\(hiddenSize), FFN \(ffnWidthDescription), "
            + "\(Self.shortCount(parameters)) parameters (\(parameters))"
            + (fileSize > 0 ? ", \(format.rawValue) \(Self.shortBytes(fileSize))" : ", in memory")
    }
}
