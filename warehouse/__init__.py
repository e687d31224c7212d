"""The warehouse package: raw-data handling (generator, validation, load), the dbt project and
the neighbour search behind `serving.similar_clients` (`similarity`, shared with the dashboard
fixtures)."""
