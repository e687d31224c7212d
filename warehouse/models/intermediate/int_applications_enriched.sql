{{ config(materialized='view') }}
{#- Grain: one row per client (sk_id_curr), history and pending. The application row as model
    features: numeric columns, 0/1 binaries, one-hot over the fixed vocabulary, ratios and
    EXT_SOURCE combinations (specs: macros/features/application_features.sql). A view: row-level
    expressions over one table, read once by client_features; writing its ~260 columns as a
    table as well only doubled the write cost. -#}
{%- set features = application_features() if execute else [] -%}
with

applications as (
    select * from {{ ref('stg_homecredit__applications') }}
),

featured as (
    select
        sk_id_curr,
        {{ feature_select_list(features, 'row') }}
    from applications
)

select * from featured
