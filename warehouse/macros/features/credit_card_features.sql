{#- Feature specs of credit card monthly balances (model
    int_credit_card_balances_aggregated_to_clients). Kernel: min/max/mean/sum/var of every
    numeric column, status shares, count; extras: utilisation, the last 12 months, slopes. -#}

{% macro credit_card_features() -%}
    {%- set ctx = {
        'prefix': 'cc', 'family': 'credit_card', 'source_table': 'credit_card_balance',
        'columns': hc_columns('credit_card_balance'),
        'unit': 'monthly credit card balances',
        'splits': {
            'all': {'where': '', 'label': ''},
            '12m': {'where': 'months_balance >= -12', 'label': 'last 12 months (MONTHS_BALANCE >= -12)'},
        },
    } -%}
    {%- set numeric = [] -%}
    {%- for column, spec in ctx['columns'].items()
            if spec['dtype'] != 'str' and column not in ('SK_ID_PREV', 'SK_ID_CURR') -%}
        {%- do numeric.append({'col': column | lower, 'aggs': ['min', 'max', 'mean', 'sum', 'var']}) -%}
    {%- endfor -%}
    {%- set utilization = {'col': 'utilization', 'source': 'AMT_BALANCE / AMT_CREDIT_LIMIT_ACTUAL',
        'desc': 'the utilisation of the card, AMT_BALANCE / AMT_CREDIT_LIMIT_ACTUAL (null when the limit is 0); high utilisation is the classic revolving-credit risk signal'} -%}
    {%- set out = [] -%}
    {#- kernel -#}
    {%- do out.extend(expand_measures(ctx, numeric)) -%}
    {%- do out.extend(expand_level_shares(ctx, ['NAME_CONTRACT_STATUS'])) -%}
    {%- do out.extend(expand_counts(ctx, ['all'], 'kernel')) -%}

    {#- extras -#}
    {%- do out.extend(expand_measures(ctx, [dict(utilization, aggs=['mean', 'max'])], 'all', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [
        dict(utilization, aggs=['mean', 'max']),
        {'col': 'amt_balance', 'aggs': ['mean', 'max']},
        {'col': 'amt_drawings_current', 'aggs': ['sum']},
        {'col': 'amt_payment_total_current', 'aggs': ['sum']},
        {'col': 'sk_dpd', 'aggs': ['max']},
        {'col': 'sk_dpd_def', 'aggs': ['max']},
    ], '12m', 'extra')) -%}
    {%- do out.extend(expand_counts(ctx, ['12m'])) -%}
    {%- set min_paid = {'col': 'payment_min_ratio', 'source': 'AMT_PAYMENT_TOTAL_CURRENT / AMT_INST_MIN_REGULARITY',
        'desc': 'the payment relative to the minimum instalment, AMT_PAYMENT_TOTAL_CURRENT / AMT_INST_MIN_REGULARITY (below 1: the minimum was not paid)'} -%}
    {%- do out.extend(expand_measures(ctx, [dict(min_paid, aggs=['mean', 'min'])], 'all', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [dict(min_paid, aggs=['mean'])], '12m', 'extra')) -%}
    {%- set late = {'col': 'dpd', 'cond': 'sk_dpd > 0', 'source': 'SK_DPD', 'desc': 'the card was past due (SK_DPD > 0)'} -%}
    {%- do out.extend(expand_conditions(ctx, [late], 'all')) -%}
    {%- do out.extend(expand_conditions(ctx, [late], '12m')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'amt_balance', 'sql': 'amt_balance, months_balance', 'aggs': ['slope'],
         'desc': 'the card balance (regressed on MONTHS_BALANCE over all card-months)'},
        dict(utilization, sql='utilization, months_balance', aggs=['slope']),
        {'col': 'sk_id_prev', 'aggs': ['nunique'], 'desc': 'credit cards (SK_ID_PREV)'},
    ], 'all', 'extra')) -%}
    {{ return(out) }}
{%- endmacro %}
