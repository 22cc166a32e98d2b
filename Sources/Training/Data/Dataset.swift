import Numerics

/// A labelled classification set: one example per row of `inputs`, its class in `labels`.
public struct Dataset: Sendable, Equatable {
    /// A short name ("digits/train", "spirals").
    public var name: String
    /// Examples × features.
    public let inputs: Matrix
    /// The class of every example, in 0..<classes.
    public let labels: [Int]
    /// Number of classes.
    public let classes: Int

    /// A set of `inputs` (examples × features) and `labels`; every label must be in 0..<classes.
    public init(name: String, inputs: Matrix, labels: [Int], classes: Int) throws {
        guard inputs.rows == labels.count else {
            throw TrainingError.invalidArgument("\(name): \(inputs.rows) examples but \(labels.count) labels")
        }
        guard classes > 0, labels.allSatisfy({ $0 >= 0 && $0 < classes }) else {
            throw TrainingError.invalidArgument("\(name): every label must be in 0..<\(classes)")
        }
        self.name = name
        self.inputs = inputs
        self.labels = labels
        self.classes = classes
    }

    /// Number of examples.
    public var count: Int { inputs.rows }
    /// Number of features per example.
    public var features: Int { inputs.cols }

    /// The examples at `indices`, in that order, as a flat row-major batch and their labels.
    public func batch(_ indices: ArraySlice<Int>) -> (x: [Float], labels: [Int]) {
        let f = features
        var x = [Float](repeating: 0, count: indices.count * f)
        var y = [Int]()
        y.reserveCapacity(indices.count)
        inputs.data.withUnsafeBufferPointer { src in
            x.withUnsafeMutableBufferPointer { dst in
                for (r, i) in indices.enumerated() {
                    (dst.baseAddress! + r * f).update(from: src.baseAddress! + i * f, count: f)
                    y.append(labels[i])
                }
            }
        }
        return (x, y)
    }

    /// The examples at `indices` as a new set named `name`.
    public func subset(_ indices: [Int], name: String) -> Dataset {
        let (x, y) = batch(indices[...])
        return try! Dataset(name: name, inputs: Matrix(rows: indices.count, cols: features, data: x), labels: y, classes: classes)
    }

    /// A seeded split into train, validation and test sets: the examples are shuffled by
    /// `SeededRandom(seed)` (Fisher–Yates) and the first ⌊validation·n⌉ go to validation, the
    /// next ⌊test·n⌉ to test, the rest to train.
    public func split(validation: Double, test: Double, seed: UInt64) throws -> (train: Dataset, validation: Dataset, test: Dataset) {
        guard validation >= 0, test >= 0, validation + test < 1 else {
            throw TrainingError.invalidArgument("validation and test fractions must be non-negative and sum to less than 1, got \(validation) and \(test)")
        }
        var rng = SeededRandom(seed: seed)
        let order = Dataset.permutation(count, using: &rng)
        let nv = Int((validation * Double(count)).rounded()), nt = Int((test * Double(count)).rounded())
        return (subset(Array(order[(nv + nt)...]), name: name + "/train"),
                subset(Array(order[..<nv]), name: name + "/validation"),
                subset(Array(order[nv..<(nv + nt)]), name: name + "/test"))
    }

    /// A permutation of 0..<n by Fisher–Yates from `rng` (j = next() mod (i + 1), i from n − 1 down).
    public static func permutation(_ n: Int, using rng: inout SeededRandom) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, through: 1, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}
