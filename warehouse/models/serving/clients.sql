{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per client (sk_id_curr), history and pending. The descriptive fields of
    marts.client_profile in human units, exactly the columns of CONTRACTS §3. -#}
with

profile as (
    select * from {{ ref('client_profile') }}
),

final as (
    select
        sk_id_curr,
        population,
        target,
        age_years,
        gender,
        family_status,
        children,
        education,
        income_type,
        occupation,
        organization,
        years_employed,
        income,
        credit_amount,
        annuity,
        goods_price,
        contract_type,
        own_car,
        own_realty,
        region_rating,
        ext_source_1,
        ext_source_2,
        ext_source_3,
        bureau_loans,
        bureau_active_loans,
        previous_applications,
        previous_refused
    from profile
)

-- sorted by key: point lookups by sk_id_curr read one row group (zone maps)
select * from final
order by sk_id_curr
