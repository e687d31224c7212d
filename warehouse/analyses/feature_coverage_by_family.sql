{#- For analysts: how much of each feature family is filled, by population. Compile with
    `dbt compile --select feature_coverage_by_family` and run the SQL in target/compiled/.
    Grain: one row per feature family and population. -#}
with

features as (
    select * from {{ ref('client_features') }}
),

catalog as (
    select feature_name, family from {{ ref('feature_catalog') }}
),

coverage_wide as (
    -- one scan: the filled share of every feature column at once (DuckDB COLUMNS(*))
    select
        population,
        count(columns(* exclude (sk_id_curr, population, target))) / count(*)
    from features
    group by population
),

coverage as (
    unpivot coverage_wide
    on columns(* exclude (population))
    into name feature_name value filled_share
),

by_family as (
    select
        catalog.family,
        coverage.population,
        count(*) as features,
        avg(coverage.filled_share) as mean_filled_share,
        min(coverage.filled_share) as min_filled_share
    from coverage
    inner join catalog on coverage.feature_name = catalog.feature_name
    group by catalog.family, coverage.population
)

select * from by_family
order by family, population
