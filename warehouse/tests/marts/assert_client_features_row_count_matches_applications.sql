{#- marts.client_features has exactly one row per application: train rows + test rows of the
    raw files (no client lost, none duplicated by a join). Returns a row on mismatch. -#}
with

features as (
    select count(*) as clients from {{ ref('client_features') }}
),

applications as (
    select
        (select count(*) from {{ source('homecredit', 'application_train') }})
        + (select count(*) from {{ source('homecredit', 'application_test') }}) as clients
)

select
    features.clients as feature_rows,
    applications.clients as application_rows
from features
cross join applications
where features.clients <> applications.clients
