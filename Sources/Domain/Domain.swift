/// Domain: the event catalog of hoso, its validation and its canonical NDJSON codec.
enum DomainModule {}
