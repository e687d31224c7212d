{#- Grain: one row per client (sk_id_curr); train ('history') and test ('pending') together. -#}
with

history as (
    select * from {{ source('homecredit', 'application_train') }}
),

pending as (
    select * from {{ source('homecredit', 'application_test') }}
),

history_staged as (
    select
        sk_id_curr,
        'history' as population,
        target,
        {{ hc_stage_columns('application_train', exclude=['SK_ID_CURR', 'TARGET']) }}
    from history
),

pending_staged as (
    select
        sk_id_curr,
        'pending' as population,
        cast(null as bigint) as target,
        {{ hc_stage_columns('application_test', exclude=['SK_ID_CURR']) }}
    from pending
),

applications as (
    -- by name: the test file has the train columns minus TARGET, in the same order
    select * from history_staged
    union all by name
    select * from pending_staged
)

select * from applications
