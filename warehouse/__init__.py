"""The warehouse package: raw-data handling (generator, validation, load) and the dbt project."""
