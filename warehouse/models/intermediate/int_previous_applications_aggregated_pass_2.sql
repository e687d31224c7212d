{#- Pass 2 of 2 of int_previous_applications_aggregated_to_clients: one row per client with a
    previous application, half of its aggregates (aggregation_pass_model). -#}
{%- set features = previous_application_features() if execute else [] -%}
{{ aggregation_pass_model(features, ref('int_previous_applications_enriched'), 2, 2) }}
