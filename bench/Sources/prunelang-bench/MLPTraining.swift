import Foundation
import Training

/// `prunelang-bench mlp DIGITS.csv SIZES BATCH EPOCHS`: one training epoch of an MLP (sizes as
/// "64,300,100,10") on all 1,797 digits with Adam (lr 1e-3) at the given batch, best of `epochs`
/// consecutive epochs (each timed alone, training continuing from the last), and the final
/// training loss so the driver can see both sides learnt.
func runMLP(_ csv: String, sizes: [Int], batch: Int, epochs: Int) throws {
    let data = try Digits.load(csv: csv)
    var net = try MLP(sizes: sizes, activation: .relu, seed: 0)
    var best = Double.infinity, lastLoss = 0.0
    for e in 0..<epochs {
        let options = TrainingOptions(epochs: 1, batchSize: batch, optimizer: .adam(Adam.Settings(learningRate: 1e-3)), seed: UInt64(e))
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = try Trainer.train(net, on: data, options: options)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        net = result.network
        lastLoss = result.epochs.last?.meanLoss ?? .nan
    }
    report("mlp_epoch", best, ["sizes": sizes, "batch": batch, "examples": data.count, "final_loss": lastLoss])
}
