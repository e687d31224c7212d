{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per feature of marts.client_features (feature_name), with the human label
    and the family its SHAP values are summed into. -#}
with

dictionary as (
    select * from {{ source('ml', 'feature_dictionary') }}
),

final as (
    select
        feature_name,
        feature_label,
        family,
        description,
        source_table
    from dictionary
)

select * from final
order by feature_name
