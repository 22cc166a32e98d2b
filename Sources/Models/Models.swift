/// Models: the model files and what runs them. GGUF and safetensors reading and writing
/// (memory-mapped, lazy), ggml dequantisation and quantisation, the architecture-neutral model view
/// (configs, tensors by role, saving), the llama and BERT forward passes (Float32 or llama.cpp's
/// integer arithmetic, KV cache, sentence embeddings), the byte-level BPE and WordPiece tokenizers,
/// perplexity, zero-shot scoring, generation, the evaluation data catalog and calibration capture.
/// Built on Numerics; knows nothing of the PruneLang language.
