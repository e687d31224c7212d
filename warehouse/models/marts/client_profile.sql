{#- Grain: one row per client (sk_id_curr), history and pending. Descriptive fields in human
    units for the dashboard and serving.clients (CONTRACTS §3 names). -#}
with

applications as (
    select * from {{ ref('stg_homecredit__applications') }}
),

bureau as (
    select sk_id_curr, bureau_count, bureau_count_active
    from {{ ref('int_bureau_credits_aggregated_to_clients') }}
),

previous_applications as (
    select sk_id_curr, prev_count, prev_count_refused
    from {{ ref('int_previous_applications_aggregated_to_clients') }}
),

described as (
    select
        applications.sk_id_curr,
        applications.population,
        applications.target,
        -- completed years, as people state their age
        cast(floor(-applications.days_birth / 365.25) as integer) as age_years,
        case applications.code_gender when 'F' then 'female' when 'M' then 'male' end as gender,
        applications.name_family_status as family_status,
        applications.cnt_children as children,
        applications.name_education_type as education,
        applications.name_income_type as income_type,
        applications.occupation_type as occupation,
        applications.organization_type as organization,
        -- null = not employed (DAYS_EMPLOYED 365243 is staged as null)
        round(-applications.days_employed / 365.25, 1) as years_employed,
        applications.amt_income_total as income,
        applications.amt_credit as credit_amount,
        applications.amt_annuity as annuity,
        applications.amt_goods_price as goods_price,
        applications.name_contract_type as contract_type,
        applications.flag_own_car = 'Y' as own_car,
        applications.flag_own_realty = 'Y' as own_realty,
        applications.region_rating_client as region_rating,
        applications.ext_source_1,
        applications.ext_source_2,
        applications.ext_source_3,
        applications.name_housing_type as housing,
        -- clients without rows in a history table have none of those loans, not an unknown number
        coalesce(bureau.bureau_count, 0) as bureau_loans,
        coalesce(bureau.bureau_count_active, 0) as bureau_active_loans,
        coalesce(previous_applications.prev_count, 0) as previous_applications,
        coalesce(previous_applications.prev_count_refused, 0) as previous_refused
    from applications
    left join bureau on applications.sk_id_curr = bureau.sk_id_curr
    left join previous_applications on applications.sk_id_curr = previous_applications.sk_id_curr
)

select * from described
