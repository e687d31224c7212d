{#- The columns of marts.client_features are sk_id_curr, population, target, then exactly the
    features of marts.feature_catalog in catalog order. Returns the mismatching positions. -#}
{%- set features_relation = ref('client_features') -%}
with

actual as (
    select column_name as feature_name, ordinal_position - 3 as position
    from information_schema.columns
    where table_schema = '{{ features_relation.schema }}'
      and table_name = '{{ features_relation.identifier }}'
      and ordinal_position > 3
),

expected as (
    select feature_name, position from {{ ref('feature_catalog') }}
),

compared as (
    select
        coalesce(actual.position, expected.position) as position,
        actual.feature_name as actual_name,
        expected.feature_name as expected_name
    from actual
    full outer join expected on actual.position = expected.position
)

select *
from compared
where actual_name is distinct from expected_name
