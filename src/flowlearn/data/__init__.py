"""Data sets: generators, storage, torch ``Dataset``s, downloads with checksums."""
