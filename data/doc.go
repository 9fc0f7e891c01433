// Package data holds everything between text files and token ids:
// tokenizers and vocabularies, parallel corpora, batching by token count with
// length buckets, the datasets the project generates itself (English to
// German number words, copy and reverse), and evaluation metrics.
package data
