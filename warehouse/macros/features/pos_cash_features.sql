{#- Feature specs of POS and cash loan monthly balances (model
    int_pos_cash_balances_aggregated_to_clients). One scan; windows by FILTER. -#}

{% macro pos_cash_features() -%}
    {%- set ctx = {
        'prefix': 'pos', 'family': 'pos_cash', 'source_table': 'pos_cash_balance', 'columns': hc_columns('pos_cash_balance'),
        'unit': 'monthly POS/cash loan balances',
        'splits': {
            'all': {'where': '', 'label': ''},
            '12m': {'where': 'months_balance >= -12', 'label': 'last 12 months (MONTHS_BALANCE >= -12)'},
            'm1': {'where': 'months_balance = -1', 'label': 'the month before the application (MONTHS_BALANCE = -1)'},
        },
    } -%}
    {%- set out = [] -%}
    {#- kernel (its MONTHS_BALANCE size equals pos_count and is not repeated) -#}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'months_balance', 'aggs': ['max', 'mean']},
        {'col': 'sk_dpd', 'aggs': ['max', 'mean']},
        {'col': 'sk_dpd_def', 'aggs': ['max', 'mean']},
    ])) -%}
    {%- do out.extend(expand_level_shares(ctx, ['NAME_CONTRACT_STATUS'])) -%}
    {%- do out.extend(expand_counts(ctx, ['all'], 'kernel')) -%}

    {#- extras: the last 12 months, the state just before the application, loan counts and terms -#}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'sk_dpd', 'aggs': ['max', 'mean']},
        {'col': 'sk_dpd_def', 'aggs': ['max', 'mean']},
    ], '12m', 'extra')) -%}
    {%- do out.extend(expand_counts(ctx, ['12m', 'm1'])) -%}
    {%- set late = {'col': 'dpd', 'cond': 'sk_dpd > 0', 'source': 'SK_DPD', 'desc': 'the loan was past due (SK_DPD > 0)'} -%}
    {%- do out.extend(expand_conditions(ctx, [late], 'all')) -%}
    {%- do out.extend(expand_conditions(ctx, [late], '12m')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'cnt_instalment_future', 'aggs': ['sum'],
         'desc': 'Installments left to pay on the previous credit; summed over the loans still reported the month before the application, the instalments the client still owes'},
    ], 'm1', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'cnt_instalment', 'aggs': ['mean', 'max']},
        {'col': 'sk_id_prev', 'aggs': ['nunique'], 'desc': 'previous loans (SK_ID_PREV)'},
    ], 'all', 'extra')) -%}
    {%- do out.extend(expand_custom(ctx, [
        {'name': 'pos_dpd_share_trend_12m', 'split': '12m', 'agg': 'trend', 'source': 'SK_DPD',
         'sql': 'pos_dpd_share_12m - pos_dpd_share',
         'desc': 'Share of past-due months in the last 12 months minus the share over the whole history: positive when the client is getting later.'},
    ], 'post')) -%}
    {{ return(out) }}
{%- endmacro %}
