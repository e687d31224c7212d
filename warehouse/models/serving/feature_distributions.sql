{{ config(schema='serving', materialized='table') }}
-- depends_on: {{ ref('client_features') }}
{#- Grain: one row per feature, group and bin (feature_name, group, bin_low): histograms of the
    champion's 30 most important features (by mean |SHAP|), precomputed for the comparison page.
    Groups: 'all' clients, history clients by outcome ('outcome_0' repaid, 'outcome_1' payment
    difficulties) and 'pending' clients. Bins are shared by the groups of a feature:
    - integer-valued features spanning fewer than 30 values: one bin per value [v - 0.5, v + 0.5);
    - otherwise 20 equal-width bins between the 1st and 99th percentiles (the minimum and
      maximum when those coincide); the first and last bins also count the clients below / above.
    Missing values are not counted. Every bin is present in every group (clients = 0 if empty).
    The feature list is read from ml.feature_importance when the model compiles (after
    models_ml has written it). -#}
{%- set top_features = [] -%}
{%- if execute -%}
    {%- set query -%}
        select importance.feature_name
        from {{ source('ml', 'feature_importance') }} as importance
        inner join {{ source('ml', 'model_runs') }} as runs
            on importance.model_version = runs.model_version
        where runs.is_champion
        order by importance.rank
        limit 30
    {%- endset -%}
    {%- set top_features = run_query(query).columns[0].values() | list -%}
{%- endif %}
{%- if top_features | length == 0 %}
-- no champion yet: an empty table with the contract's columns
select
    cast(null as varchar) as feature_name,
    cast(null as varchar) as "group",
    cast(null as double) as bin_low,
    cast(null as double) as bin_high,
    cast(null as bigint) as clients
where false
{%- else %}
with

features as (
    select
        case
            when population = 'pending' then 'pending'
            when target = 1 then 'outcome_1'
            else 'outcome_0'
        end as outcome_group,
        {%- for name in top_features %}
        cast({{ adapter.quote(name) }} as double) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('client_features') }}
),

statistics as (
    -- one row, each feature's statistics computed on its own column: the same values as
    -- grouping an unpivoted clients x features table by feature, which is what this model did
    -- until it spilled tens of GB of temp files at 3x full scale (DuckDB's grouped quantile)
    select
        {%- for name in top_features %}
        quantile_cont({{ adapter.quote(name) }}, [0.01, 0.99]) as {{ adapter.quote(name ~ '__q') }},
        min({{ adapter.quote(name) }}) as {{ adapter.quote(name ~ '__low') }},
        max({{ adapter.quote(name) }}) as {{ adapter.quote(name ~ '__high') }},
        bool_and({{ adapter.quote(name) }} = round({{ adapter.quote(name) }})) as {{ adapter.quote(name ~ '__integral') }}{{ ',' if not loop.last }}
        {%- endfor %}
    from features
),

ranges as (
    -- one row per feature with at least one value
    {%- for name in top_features %}
    select
        '{{ name }}' as feature_name,
        {{ adapter.quote(name ~ '__q') }}[1] as p01,
        {{ adapter.quote(name ~ '__q') }}[2] as p99,
        {{ adapter.quote(name ~ '__low') }} as low,
        {{ adapter.quote(name ~ '__high') }} as high,
        {{ adapter.quote(name ~ '__integral') }} as integral
    from statistics
    where {{ adapter.quote(name ~ '__low') }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

binning as (
    select
        feature_name,
        case when integral and p99 - p01 < 30 then true else false end as unit_bins,
        case when p99 > p01 then p01 else low end as range_low,
        case when p99 > p01 then p99 else high end as range_high
    from ranges
),

bin_layout as (
    select
        feature_name,
        case
            when unit_bins then floor(range_low) - 0.5
            else range_low
        end as start,
        case
            when unit_bins then 1.0
            when range_high > range_low then (range_high - range_low) / 20.0
            else 1.0
        end as width,
        case
            when unit_bins then cast(ceil(range_high) - floor(range_low) + 1 as integer)
            when range_high > range_low then 20
            else 1
        end as n_bins
    from binning
),

bins as (
    select
        bin_layout.feature_name,
        cast(bin_index.bin as integer) as bin,
        bin_layout.start + bin_index.bin * bin_layout.width as bin_low,
        bin_layout.start + (bin_index.bin + 1) * bin_layout.width as bin_high
    from bin_layout
    cross join lateral (select unnest(range(bin_layout.n_bins)) as bin) as bin_index
),

binned_values as (
    -- each feature's non-missing values with their bin, column by column (a stream: no
    -- long table of clients x features is built, joined or kept)
    {%- for name in top_features %}
    select
        layout.feature_name,
        features.outcome_group,
        cast(least(
            greatest(floor((features.{{ adapter.quote(name) }} - layout.start) / layout.width), 0),
            layout.n_bins - 1
        ) as integer) as bin
    from features
    cross join (select * from bin_layout where feature_name = '{{ name }}') as layout
    where features.{{ adapter.quote(name) }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

group_counts as (
    select feature_name, outcome_group as group_name, bin, count(*) as clients
    from binned_values
    group by all
),

counts as (
    select * from group_counts
    union all
    -- 'all' is the sum of the three groups (integer counts: exact)
    select feature_name, 'all' as group_name, bin, sum(clients)::bigint as clients
    from group_counts
    group by all
),

groups as (
    select unnest(['all', 'outcome_0', 'outcome_1', 'pending']) as group_name
),

final as (
    select
        bins.feature_name,
        groups.group_name as "group",
        bins.bin_low,
        bins.bin_high,
        coalesce(counts.clients, 0) as clients
    from bins
    cross join groups
    left join counts
        on bins.feature_name = counts.feature_name
        and groups.group_name = counts.group_name
        and bins.bin = counts.bin
)

select * from final
order by feature_name, "group", bin_low
{%- endif %}
