{#- Grain: one row per client (sk_id_curr), history and pending: population, target, then every
    model feature in feature_catalog order. Joins client-grain tables only (no fan-out). -#}
{{ config(materialized='table', persist_docs={'relation': true, 'columns': false}) }}
{%- set features = all_features() if execute else [] -%}
with

applications as (
    select sk_id_curr, population, target from {{ ref('stg_homecredit__applications') }}
),

application_features as (
    select * from {{ ref('int_applications_enriched') }}
),

bureau_features as (
    select * from {{ ref('int_bureau_credits_aggregated_to_clients') }}
),

previous_application_features as (
    select * from {{ ref('int_previous_applications_aggregated_to_clients') }}
),

pos_cash_features as (
    select * from {{ ref('int_pos_cash_balances_aggregated_to_clients') }}
),

installment_features as (
    select * from {{ ref('int_installment_payments_aggregated_to_clients') }}
),

credit_card_features as (
    select * from {{ ref('int_credit_card_balances_aggregated_to_clients') }}
),

joined as (
    -- every right-hand side has one row per client at most. The application features (~260
    -- columns, one row per application, as `applications`) come first: DuckDB streams the
    -- left side of this chain of left joins and keeps a hash table of each right side, so
    -- the widest side is never held. With `applications` first the plan held the application
    -- side too and the full-scale mart ran out of memory in one statement; in this order one
    -- statement writes it under PAD_MARTS_MEMORY_LIMIT (warehouse/config.py).
    select *
    from application_features
    left join applications using (sk_id_curr)
    left join bureau_features using (sk_id_curr)
    left join previous_application_features using (sk_id_curr)
    left join pos_cash_features using (sk_id_curr)
    left join installment_features using (sk_id_curr)
    left join credit_card_features using (sk_id_curr)
),

cross_table as (
    select
        *,
        {{ feature_select_list(features, 'mart') }}
    from joined
),

final as (
    -- the catalog's order, and nothing that is not in the catalog
    select
        sk_id_curr,
        population,
        target,
        {%- for name in feature_names(features) %}
        {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from cross_table
)

select * from final
