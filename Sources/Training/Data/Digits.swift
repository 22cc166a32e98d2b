import Foundation
import Numerics

/// scikit-learn's handwritten digits (UCI optical recognition of digits, 8×8 images, 1,797 examples,
/// classes 0–9; BSD-3), read from the `digits.csv` that `scripts/fetch-models` takes out of the
/// scikit-learn wheel (`sklearn/datasets/data/digits.csv.gz`, decompressed). Each line holds 64 pixel
/// counts in 0...16 and the label; inputs are scaled to [0, 1] by dividing by 16.
public enum Digits {
    /// Examples in the set.
    public static let count = 1797
    /// Pixels per example.
    public static let features = 64

    /// The whole set from `path` (a digits.csv).
    public static func load(csv path: String) throws -> Dataset {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.badData("cannot read the digits file \(path)")
        }
        var x = [Float](), y = [Int]()
        x.reserveCapacity(count * features)
        var lineNumber = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            lineNumber += 1
            let fields = line.split(separator: ",")
            guard fields.count == features + 1 else {
                throw TrainingError.badData("\(path), line \(lineNumber): \(fields.count) fields, expected \(features + 1)")
            }
            for f in fields.prefix(features) {
                guard let v = Float(f.trimmingCharacters(in: .whitespaces)), v >= 0, v <= 16 else {
                    throw TrainingError.badData("\(path), line \(lineNumber): pixel '\(f)' is not a number in 0...16")
                }
                x.append(v / 16)
            }
            guard let label = Double(fields[features].trimmingCharacters(in: .whitespacesAndNewlines)), label >= 0, label <= 9, label == label.rounded() else {
                throw TrainingError.badData("\(path), line \(lineNumber): label '\(fields[features])' is not a digit")
            }
            y.append(Int(label))
        }
        guard y.count == count else {
            throw TrainingError.badData("\(path): \(y.count) examples, expected \(count)")
        }
        return try Dataset(name: "digits", inputs: Matrix(rows: y.count, cols: features, data: x), labels: y, classes: 10)
    }

    /// The seeded split used throughout: 20% validation, 20% test, the rest (1,079) train.
    public static func splits(csv path: String, seed: UInt64 = 0) throws -> (train: Dataset, validation: Dataset, test: Dataset) {
        try load(csv: path).split(validation: 0.2, test: 0.2, seed: seed)
    }
}
