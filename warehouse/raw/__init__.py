"""Raw Home Credit files: the encoded schema, the synthetic generator, validation and load."""
