import Foundation
import Numerics
import Models
import Pruning

/// `prunelang-bench prunenet GGUF EPISODES [RATIO]`: trains a PruneNet policy on the model (paper
/// variant, KS penalty, seed 0) and prints the wall time of the whole run (dequantising the 30
/// gate matrices, their Gram matrices and singular values, then the episodes), the episodes
/// alone, and the curve of mean penalties.
func runPruneNet(_ path: String, episodes: Int, ratio: Double) throws {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let model = try ModelLoader.load(path)
    let states = try PolicyTraining.states(of: model)
    let spectra = try PolicyTraining.prepare(states)
    let t1 = DispatchTime.now().uptimeNanoseconds
    var options = PolicyTrainingOptions()
    options.episodes = episodes
    options.ratio = ratio
    let r = try PolicyTraining.train(spectra: spectra, options: options)
    let t2 = DispatchTime.now().uptimeNanoseconds
    report("prunenet_\(episodes)_episodes", Double(t2 - t0) / 1e9, [
        "prepare_s": Double(t1 - t0) / 1e9, "episodes_s": Double(t2 - t1) / 1e9,
        "episodes": episodes, "ratio": ratio, "curve": r.curve.map(\.meanPenalty),
        "kept_episode": r.keptEpisode,
    ])
}
