// Package memory gives agents' memories and the knowledge base their
// vectors and their recall.
//
// An [Embedder] turns texts into vectors: [LocalEmbedder] works offline with
// no model (lexical feature hashing), [ProviderEmbedder] asks a model
// provider. [Chunk] and [ParseDocument] cut uploaded documents into pieces
// worth embedding. [Remember] embeds and stores entries, [Recall] ranks the
// entries of a filter against a query by exact cosine similarity blended
// with recency and importance, and [Reembed] moves entries to another
// embedder.
//
// Every stored vector names the embedder that made it. Vectors of different
// embedders are never compared: Recall ranks only the entries of its own
// embedder and refuses, with ECONFLICT, a filter whose entries were all made
// by another one, so the caller knows to run Reembed.
package memory
