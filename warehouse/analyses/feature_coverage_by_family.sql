{#- For analysts: how much of each feature family is filled, by population. Compile with
    `dbt compile --select feature_coverage_by_family` and run the SQL in target/compiled/.
    Grain: one row per feature family and population. -#}
{%- set features = all_features() if execute else [] -%}
with

features as (
    select * from {{ ref('client_features') }}
),

coverage as (
    {%- for f in features %}
    select
        {{ sql_string(f['family']) }} as family,
        population,
        count({{ f['name'] }}) / count(*) as filled_share
    from features
    group by population
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
),

by_family as (
    select
        family,
        population,
        count(*) as features,
        avg(filled_share) as mean_filled_share,
        min(filled_share) as min_filled_share
    from coverage
    group by family, population
)

select * from by_family
order by family, population
