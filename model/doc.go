// Package model assembles layers into the Transformer of "Attention Is All
// You Need": encoder and decoder layers (post-LN or pre-LN), the stacks, the
// encoder-decoder with its embeddings and output projection, greedy
// decoding, and saving and loading weights as safetensors.
//
// An Encoder can be used on its own: build one with NewEncoder and call its
// Forward on a graph.Builder.
package model
