/// Models: GGUF and safetensors reading and writing, dequantisation, the llama and BERT
/// architectures, tokenizers, forward passes, perplexity, zero-shot scoring, generation and
/// calibration capture. Built on Numerics; knows nothing of the PruneLang language.
/// (Empty until the weights issue lands.)
