{{ config(schema='serving', materialized='table', tags=['dashboard']) }}
{#- Grain: one row per client of serving.clients (sk_id_curr), history and pending. What the
    dashboard's comparison page plots: the client's values of the champion's most important
    numeric features (var dashboard_features, default 30, by serving.feature_importance.rank),
    one column per feature named as in marts.client_features and cast to double (null =
    missing), plus population, target and the fixed sample drawn in the scatter plots.
    Wide on purpose: a client's values are one row, and a feature of every client (histograms,
    the 50 neighbours of serving.similar_clients, the scatter sample) is one column scan.
    The feature list is read from serving.feature_importance when the model compiles, i.e.
    after that table has been built in the same run. -#}
{%- set top_n = var('dashboard_features', 30) -%}
{%- set scatter_sample = var('dashboard_scatter_sample', 5000) -%}
{%- set importance = ref('feature_importance') -%}
{%- set client_features = ref('client_features') -%}
{%- set features = [] -%}
{%- if execute -%}
    {%- set query -%}
        select importance.feature_name
        from {{ importance }} as importance
        inner join information_schema.columns as columns
            on columns.table_catalog = '{{ client_features.database }}'
            and columns.table_schema = '{{ client_features.schema }}'
            and columns.table_name = '{{ client_features.identifier }}'
            and columns.column_name = importance.feature_name
        where (
                columns.data_type in ('DOUBLE', 'FLOAT', 'REAL', 'BIGINT', 'INTEGER', 'SMALLINT',
                                      'TINYINT', 'HUGEINT', 'UBIGINT', 'UINTEGER', 'USMALLINT',
                                      'UTINYINT', 'BOOLEAN')
                or columns.data_type like 'DECIMAL%'
            )
            and importance.feature_name not in ('sk_id_curr', 'population', 'target',
                                                'in_scatter_sample')
        order by importance.rank, importance.feature_name
        limit {{ top_n }}
    {%- endset -%}
    {%- set features = run_query(query).columns[0].values() | list -%}
{%- endif %}
with

clients as (
    select sk_id_curr, population, target from {{ ref('clients') }}
),

features as (
    select
        sk_id_curr
        {%- for name in features %},
        cast({{ adapter.quote(name) }} as double) as {{ adapter.quote(name) }}
        {%- endfor %}
    from {{ client_features }}
),

final as (
    select
        clients.sk_id_curr,
        clients.population,
        clients.target,
        -- a fixed pseudo-random sample of about `scatter_sample` clients (multiplicative
        -- hashing of the id), so the scatter plots show the same clients every refresh
        (clients.sk_id_curr * 2654435761) % 1000003
            < {{ scatter_sample }} * 1000003.0 / count(*) over () as in_scatter_sample
        {%- for name in features %},
        features.{{ adapter.quote(name) }}
        {%- endfor %}
    from clients
    left join features on clients.sk_id_curr = features.sk_id_curr
)

-- sorted by key: point lookups by sk_id_curr read one row group (zone maps)
select * from final
order by sk_id_curr
