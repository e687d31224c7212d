{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per refused pending client and option (sk_id_curr, option_rank): the
    smallest change of one lever (credit amount, annuity, down payment) that turns the refusal
    into a grant, verified by scoring it (models_ml/recourse.py). -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

options as (
    select * from {{ source('ml', 'client_recourse') }}
),

final as (
    select
        options.sk_id_curr,
        options.model_version,
        options.option_rank,
        options.lever,
        options.edits,
        options.score,
        options.probability_default,
        options.text_code,
        options.text
    from options
    inner join champion on options.model_version = champion.model_version
)

select * from final
order by sk_id_curr, option_rank
