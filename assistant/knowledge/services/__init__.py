"""Writes to the knowledge base, by concern: `submission` (collections, documents, uploads),
`indexing` (chunk, embed and store, on threads), `reembedding` (a collection to another model in one
switch) and `lexicon` (the full-text word counts)."""
