import Foundation
import Numerics

/// Seeded two-dimensional sets a student can draw: interleaved spirals and Gaussian blobs.
public enum SyntheticData {
    /// `classes` spiral arms of `perClass` points each: point i of arm c sits at radius t = i/perClass
    /// (0 to 1) and angle `turns`·2π·t + 2π·c/classes, plus normal noise of standard deviation
    /// `noise` on each coordinate. Drawn from `SeededRandom(seed)`.
    public static func spirals(perClass: Int = 100, classes: Int = 2, turns: Double = 1.5, noise: Double = 0.05, seed: UInt64 = 0) throws -> Dataset {
        guard perClass > 0, classes >= 2 else {
            throw TrainingError.invalidArgument("spirals need at least 1 point per class and 2 classes")
        }
        var rng = SeededRandom(seed: seed)
        var x = [Float](), y = [Int]()
        for c in 0..<classes {
            for i in 0..<perClass {
                let t = Double(i) / Double(perClass)
                let angle = turns * 2 * Double.pi * t + 2 * Double.pi * Double(c) / Double(classes)
                x.append(Float(t * cos(angle) + noise * rng.normal()))
                x.append(Float(t * sin(angle) + noise * rng.normal()))
                y.append(c)
            }
        }
        return try Dataset(name: "spirals", inputs: Matrix(rows: y.count, cols: 2, data: x), labels: y, classes: classes)
    }

    /// `centers` Gaussian blobs of `perClass` points each in `features` dimensions: centres uniform
    /// in [−box, box] per coordinate, points at centre + `spread`·N(0, 1) per coordinate (as
    /// scikit-learn's make_blobs, from `SeededRandom(seed)`: all centres first, then the points).
    public static func blobs(perClass: Int = 100, centers: Int = 3, features: Int = 2, spread: Double = 1, box: Double = 10, seed: UInt64 = 0) throws -> Dataset {
        guard perClass > 0, centers >= 2, features >= 1 else {
            throw TrainingError.invalidArgument("blobs need at least 1 point per class, 2 centres and 1 feature")
        }
        var rng = SeededRandom(seed: seed)
        let c = (0..<(centers * features)).map { _ in -box + 2 * box * rng.uniform() }
        var x = [Float](), y = [Int]()
        for k in 0..<centers {
            for _ in 0..<perClass {
                for f in 0..<features { x.append(Float(c[k * features + f] + spread * rng.normal())) }
                y.append(k)
            }
        }
        return try Dataset(name: "blobs", inputs: Matrix(rows: y.count, cols: features, data: x), labels: y, classes: centers)
    }
}
