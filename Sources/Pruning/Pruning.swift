/// Pruning: structured and unstructured pruners (magnitude, Wanda, SparseGPT, SliceGPT,
/// ShortGPT, LaCo, PruneNet), accounting of parameters, sparsity and FLOPs, quantisation and
/// entropy coding. Built on Models and Numerics; knows nothing of the PruneLang language.
