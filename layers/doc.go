// Package layers holds the Transformer's building blocks as Gorgonia
// expression graphs: linear maps, scaled dot-product and multi-head
// attention, position-wise feed-forward networks, positional encodings,
// layer normalisation and token embeddings. Dropout is graph.Builder.Dropout.
//
// Each layer is a small struct: its fields are the hyper-parameters and the
// hierarchical parameter name prefix (for example
// "encoder.layers.0.self_attn"), and its Forward method adds the layer's
// nodes to a graph.Builder, creating the parameters in the builder's Store
// on first use. Activations flow as 2-D [batch·len, d_model] matrices; layers
// that need the sequence structure (attention, positions) take batch and
// length explicitly.
//
// Gorgonia v0.9.18 runs some ops in place on their first operand when it can
// (a forward-only machine may overwrite an input). Layers therefore never
// pass a parameter as the first operand of an element-wise, reshape or
// transpose op.
package layers
