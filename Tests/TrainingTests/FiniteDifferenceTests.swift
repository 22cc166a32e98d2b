import Numerics
import XCTest
@testable import Training

/// Each operation's backward against central finite differences of its forward, on tiny random
/// shapes. The objective is L = Σ out ⊙ r for a fixed random r (so dL/dout = r); differences are
/// taken in Float64 over the Float32 forward with step h = 1e-2, so the check is good to about
/// 1e-3 of the gradient's scale (Float32 rounding / h and the O(h²) truncation); a wrong backward
/// is off by the order of the gradient itself.
final class FiniteDifferenceTests: XCTestCase {
    let h: Float = 1e-2
    let tolerance = 3e-3

    func randomArray(_ n: Int, _ rng: inout SeededRandom, awayFromZero: Bool = false) -> [Float] {
        (0..<n).map { _ in
            var v = Float(rng.normal())
            if awayFromZero, abs(v) < 0.1 { v += v < 0 ? -0.1 : 0.1 }
            return v
        }
    }

    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    /// The numeric gradient of `f` at `x`, one coordinate at a time.
    func numeric(_ x: [Float], _ f: ([Float]) -> Double) -> [Double] {
        x.indices.map { i in
            var p = x, m = x
            p[i] += h
            m[i] -= h
            return (f(p) - f(m)) / (Double(p[i]) - Double(m[i]))
        }
    }

    func assertClose(_ analytic: [Float], _ numeric: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        let err = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(err / scale, tolerance, "\(what): max error \(err) at scale \(scale)", file: file, line: line)
    }

    func testBiasedLinear() throws {
        var rng = SeededRandom(seed: 1)
        let rows = 3, n = 4, k = 5
        let x = randomArray(rows * k, &rng), b = randomArray(n, &rng), r = randomArray(rows * n, &rng)
        let w = try Matrix(rows: n, cols: k, data: randomArray(n * k, &rng))
        var gw = Matrix(rows: n, cols: k), gb = [Float](repeating: 0, count: n)
        let dx = try XCTUnwrap(BiasedLinear.backward(r, x: x, rows: rows, weight: w, weightGradient: &gw, biasGradient: &gb))
        assertClose(dx, numeric(x) { self.dot(BiasedLinear.forward($0, rows: rows, weight: w, bias: b), r) }, "dx")
        assertClose(gw.data, numeric(w.data) { self.dot(BiasedLinear.forward(x, rows: rows, weight: try! Matrix(rows: n, cols: k, data: $0), bias: b), r) }, "dW")
        assertClose(gb, numeric(b) { self.dot(BiasedLinear.forward(x, rows: rows, weight: w, bias: $0), r) }, "db")
        // Gradients accumulate: a second backward doubles them.
        let once = gw
        BiasedLinear.backward(r, x: x, rows: rows, weight: w, weightGradient: &gw, biasGradient: &gb, inputGradient: false)
        for i in 0..<gw.count { XCTAssertEqual(gw.data[i], 2 * once.data[i], accuracy: 1e-5 * max(1, abs(once.data[i]))) }
    }

    func testActivations() {
        for act in Activation.allCases {
            var rng = SeededRandom(seed: 2)
            let x = randomArray(12, &rng, awayFromZero: act == .relu), r = randomArray(12, &rng)
            let dx = act.backward(r, x: x, y: act.forward(x))
            assertClose(dx, numeric(x) { self.dot(act.forward($0), r) }, act.rawValue)
        }
        // ReLU passes the gradient exactly where the input is positive and nothing elsewhere.
        XCTAssertEqual(Activation.relu.backward([1, 2, 3], x: [-1, 0.5, 0], y: [0, 0.5, 0]), [0, 2, 0])
    }

    func testSoftmaxCrossEntropy() {
        var rng = SeededRandom(seed: 3)
        let rows = 4, classes = 5
        let z = randomArray(rows * classes, &rng), labels = [0, 4, 2, 2]
        let (loss, p) = SoftmaxCrossEntropy.forward(logits: z, rows: rows, classes: classes, labels: labels)
        let d = SoftmaxCrossEntropy.backward(probabilities: p, rows: rows, classes: classes, labels: labels)
        assertClose(d, numeric(z) { SoftmaxCrossEntropy.forward(logits: $0, rows: rows, classes: classes, labels: labels).loss }, "dlogits")
        // The mean of −log p[label], computed independently.
        var expected = 0.0
        for r in 0..<rows {
            let row = z[(r * classes)..<((r + 1) * classes)].map(Double.init)
            expected += log(row.map(exp).reduce(0, +)) - row[labels[r]]
        }
        XCTAssertEqual(loss, expected / Double(rows), accuracy: 1e-6)
        // Large logits do not overflow.
        let big = SoftmaxCrossEntropy.forward(logits: [1000, 0, -1000], rows: 1, classes: 3, labels: [1])
        XCTAssertEqual(big.loss, 1000, accuracy: 1e-3)
    }

    func testWholeNetwork() throws {
        for act in [Activation.tanh, .gelu] {
            var net = try MLP(sizes: [3, 4, 5, 2], activation: act, seed: 4)
            var rng = SeededRandom(seed: 5)
            let rows = 3, x = randomArray(rows * 3, &rng), labels = [0, 1, 1]
            let (_, g) = net.lossAndGradients(x, rows: rows, labels: labels)
            let base = net
            for l in 0..<net.layerCount {
                let num = numeric(base.weights[l].data) { w in
                    var n = base
                    try! n.setParameters(layer: l, weight: Matrix(rows: base.weights[l].rows, cols: base.weights[l].cols, data: w), bias: base.biases[l])
                    return n.loss(x, rows: rows, labels: labels)
                }
                assertClose(g.weights[l].data, num, "\(act) layer \(l) weight")
                let numB = numeric(base.biases[l]) { b in
                    var n = base
                    try! n.setParameters(layer: l, weight: base.weights[l], bias: b)
                    return n.loss(x, rows: rows, labels: labels)
                }
                assertClose(g.biases[l], numB, "\(act) layer \(l) bias")
            }
            net = base
        }
    }
}
