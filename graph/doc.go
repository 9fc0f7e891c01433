// Package graph holds the Gorgonia plumbing shared by every layer and model:
// a named parameter Store with its initialisers, a Builder that creates the
// nodes of one expression graph (parameters, inputs, dropout masks), additive
// attention masks, a cache of compiled machines per shape, and a float64
// finite-difference gradient checker.
//
// Gorgonia graphs have static shapes, so a model builds one graph per shape
// bucket and caches it (see Cache). Parameters live in the Store as
// *tensor.Dense values; every graph binds its parameter nodes to the same
// tensors, so all graphs of a model share weights without copies.
package graph
