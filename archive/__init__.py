"""tcbot's archive: everything that remembers (database, ingest, transcripts, search)."""
