/// Pruning: the pruners and what they are measured by. Structured FFN pruning and row baselines,
/// PruneNet (the policy, its REINFORCE training against a spectral distance, AdamW), unstructured
/// and N:M pruning (magnitude, Wanda, SparseGPT, with calibration), SliceGPT, layer dropping
/// (ShortGPT, LaCo), the method registry that declares each method once, and the accounting of
/// parameters, sparsity and FLOPs. Built on Models and Numerics; knows nothing of the PruneLang
/// language.
