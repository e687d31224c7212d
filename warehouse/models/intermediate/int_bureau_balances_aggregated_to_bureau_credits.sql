{#- Grain: one row per Credit Bureau credit with a monthly history (sk_id_bureau), orphans
    included (they are dropped when joined to bureau). One scan of bureau_balance, the largest
    table (27M rows at full scale); windows by FILTER
    (specs: bureau_balance_credit_features() in macros/features/bureau_features.sql). -#}
{%- set features = bureau_balance_credit_features() if execute else [] -%}
with

balances as (
    select * from {{ ref('stg_homecredit__bureau_balances') }}
),

{{ aggregate_in_passes(features, 'balances', key='sk_id_bureau') }}

select * from aggregated
