"""AML writes, by concern: `screening` (transactions and documents, batches, alerts),
`cases` (analysts' work on alerts), `rules` (rule settings) and `audit` (the hash-chained trail
that every one of them writes to)."""
