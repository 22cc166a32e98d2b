import Foundation
import Models
import Numerics
import Training

/// `prunelang-bench training GGUF SEQ BATCH LORA STEPS`: the time of one optimiser step (forward,
/// backward over the vocabulary-wide cross-entropy, AdamW) of the llama at `BATCH` × `SEQ` tokens,
/// full fine-tuning (LORA 0) or LoRA rank LORA on q and v; best and median of `STEPS` steps after
/// one untimed warm-up step, on fixed pseudo-random ids. Reports tokens/s and this process's peak
/// resident memory (getrusage), so each configuration is measured in a process of its own.
func runLlamaTraining(_ gguf: String, sequence: Int, batch: Int, lora: Int, steps: Int) throws {
    let weights = try LlamaWeights(ModelLoader.load(gguf))
    let settings = lora > 0 ? LoRASettings(rank: lora, alpha: Double(2 * lora)) : nil
    var model = try LlamaTrainingModel(weights, lora: settings)
    var rng = SeededRandom(seed: 1)
    let vocab = UInt64(weights.config.vocabSize)
    let ids = (0..<batch).map { _ in (0...sequence).map { _ in Int32(rng.next() % vocab) } }
    var adam = Adam(.adamW(learningRate: 1e-5, weightDecay: 0))
    var times: [Double] = []
    var loss = 0.0
    for s in 0...steps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let grads = try model.lossAndGradients(ids)
        model.step(grads, optimizer: &adam)
        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if s > 0 { times.append(t) }
        loss = grads.loss
    }
    times.sort()
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let tokens = Double(batch * sequence)
    report("llama_train_step", times[0], ["median_s": times[times.count / 2], "tokens_per_s": tokens / times[0],
                                          "median_tokens_per_s": tokens / times[times.count / 2], "peak_rss_mib": Double(usage.ru_maxrss) / 1024,
                                          "seq": sequence, "batch": batch, "lora": lora, "steps": steps, "last_loss": loss,
                                          "trainable": model.parameters.reduce(0) { $0 + (model.parameter(named: $1.name)?.count ?? 0) }])
}
