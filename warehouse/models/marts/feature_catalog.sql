{#- Grain: one row per feature of client_features (feature_name). Rendered from the same specs
    (macros/features/*.sql) that generate the feature SQL, so names, formulas and descriptions
    cannot drift; the ML code reads its labels from here. -#}
{%- set features = all_features() if execute else [] -%}
with

catalog as (
    select *
    from (values
        {%- for f in features %}
        ({{ loop.index }}, {{ sql_string(f['name']) }}, {{ sql_string(f['description']) }}, {{ sql_string(f['family']) }},
         {{ sql_string(f['source_table']) }}, {{ sql_string(f['source_column']) }}, {{ sql_string(f['aggregation']) }},
         {{ sql_string(f['split_or_window']) if f['split_or_window'] else 'null' }}, {{ sql_string(f['origin']) }},
         {{ sql_string(f['sql'] | trim) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as features (
        position, feature_name, description, family, source_table, source_column, aggregation,
        split_or_window, origin, sql_expression
    )
)

select * from catalog
