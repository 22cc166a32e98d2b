import Foundation
import Models
import Numerics

/// Times zero-shot scoring of the first `limit` examples of `task` at each batch size (examples
/// per pair of packed passes; 1 is one example at a time), and reports each run's seconds,
/// accuracy and per-example predictions so the driver can compare them with llama.cpp's.
func runZeroShot(_ path: String, task: String, limit: Int, batchSizes: [Int]) throws {
    let model = try ModelLoader.load(path)
    let forward = try LlamaForward(weights: LlamaWeights(model))
    let tokenizer = try BPETokenizer(gguf: GGUFFile(path: path))
    let zeroShotTask = try ZeroShotTask(name: task)
    let examples = try zeroShotTask.examples(limit: limit)
    for batch in batchSizes {
        var result: ZeroShotResult?
        let seconds = try time(repeats: 1) {
            result = try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: zeroShotTask, examples: examples, batchSize: batch)
        }
        guard let result else { continue }
        report("zeroshot_\(task)", seconds, [
            "batch": batch, "n": result.n, "acc": result.acc, "blas_core": BLASKernels.core,
            "pred": result.examples.map(\.predicted), "pred_norm": result.examples.map(\.predictedNorm),
        ])
    }
}
