/// Models: GGUF and safetensors reading and writing, dequantisation, the architecture-neutral
/// tensor roles and configs; to come: architectures (llama, bert), tokenizers, forward passes,
/// perplexity, zero-shot scoring, generation and calibration capture. Built on Numerics; knows
/// nothing of the PruneLang language.
