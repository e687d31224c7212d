{#- Feature specs of instalment payments (model int_installment_payments_aggregated_to_clients),
    over the per-row measures of the kernel:
      payment_perc = AMT_PAYMENT / AMT_INSTALMENT (null when the instalment is 0),
      payment_diff = AMT_INSTALMENT - AMT_PAYMENT,
      dpd = max(DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT, 0), dbd = max(DAYS_INSTALMENT - DAYS_ENTRY_PAYMENT, 0),
    both clipped at 0 and null when the payment is missing (the kernel's lambda turned a missing
    payment into 0 days late, i.e. "on time"; we keep it missing and count it in inst_unpaid_share). -#}

{% macro installment_features() -%}
    {%- set ctx = {
        'prefix': 'inst', 'family': 'installments', 'source_table': 'installments_payments',
        'columns': hc_columns('installments_payments'),
        'unit': 'instalment payments',
        'splits': {
            'all': {'where': '', 'label': ''},
            '12m': {'where': 'days_instalment >= -365', 'label': 'instalments due in the last 12 months (DAYS_INSTALMENT >= -365)'},
        },
    } -%}
    {%- set dpd = {'col': 'dpd', 'source': 'DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT',
        'desc': 'days past due, DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT clipped at 0'} -%}
    {%- set dbd = {'col': 'dbd', 'source': 'DAYS_INSTALMENT - DAYS_ENTRY_PAYMENT',
        'desc': 'days paid before due, DAYS_INSTALMENT - DAYS_ENTRY_PAYMENT clipped at 0'} -%}
    {%- set payment_perc = {'col': 'payment_perc', 'source': 'AMT_PAYMENT / AMT_INSTALMENT',
        'desc': 'the share of the instalment paid, AMT_PAYMENT / AMT_INSTALMENT (null when the instalment is 0)'} -%}
    {%- set payment_diff = {'col': 'payment_diff', 'source': 'AMT_INSTALMENT - AMT_PAYMENT',
        'desc': 'the amount left unpaid, AMT_INSTALMENT - AMT_PAYMENT'} -%}
    {%- set out = [] -%}
    {#- kernel -#}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'num_instalment_version', 'aggs': ['nunique']},
        dict(dpd, aggs=['max', 'mean', 'sum']),
        dict(dbd, aggs=['max', 'mean', 'sum']),
        dict(payment_perc, aggs=['max', 'mean', 'sum', 'var']),
        dict(payment_diff, aggs=['max', 'mean', 'sum', 'var']),
        {'col': 'amt_instalment', 'aggs': ['max', 'mean', 'sum']},
        {'col': 'amt_payment', 'aggs': ['min', 'max', 'mean', 'sum']},
        {'col': 'days_entry_payment', 'aggs': ['max', 'mean', 'sum']},
    ])) -%}
    {%- do out.extend(expand_counts(ctx, ['all'], 'kernel')) -%}

    {#- extras: the last 12 months, rates of late / short / missing payments and their trend -#}
    {%- do out.extend(expand_measures(ctx, [
        dict(dpd, aggs=['max', 'mean', 'sum']),
        dict(dbd, aggs=['mean']),
        dict(payment_perc, aggs=['mean', 'min']),
        dict(payment_diff, aggs=['mean', 'sum']),
        {'col': 'amt_payment', 'aggs': ['sum']},
    ], '12m', 'extra')) -%}
    {%- do out.extend(expand_counts(ctx, ['12m'])) -%}
    {%- set rates = [
        {'col': 'late', 'cond': 'dpd > 0', 'agg': 'rate', 'source': 'DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT', 'desc': 'the payment was late (dpd > 0)'},
        {'col': 'late30', 'cond': 'dpd > 30', 'agg': 'rate', 'source': 'DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT', 'desc': 'the payment was more than 30 days late'},
        {'col': 'underpaid', 'cond': 'payment_diff > 0', 'agg': 'rate', 'source': 'AMT_INSTALMENT, AMT_PAYMENT', 'desc': 'less than the instalment was paid (payment_diff > 0)'},
    ] -%}
    {%- do out.extend(expand_conditions(ctx, rates + [
        {'col': 'unpaid', 'cond': 'amt_payment is null', 'source': 'AMT_PAYMENT', 'desc': 'no payment is recorded (AMT_PAYMENT missing)'},
        {'col': 'card', 'cond': 'num_instalment_version = 0', 'source': 'NUM_INSTALMENT_VERSION', 'desc': 'the instalment belongs to a credit card (NUM_INSTALMENT_VERSION = 0)'},
    ], 'all')) -%}
    {%- do out.extend(expand_conditions(ctx, rates, '12m')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'sk_id_prev', 'aggs': ['nunique'], 'desc': 'previous loans (SK_ID_PREV)'},
    ], 'all', 'extra')) -%}
    {%- do out.extend(expand_custom(ctx, [
        {'name': 'inst_late_rate_trend_12m', 'split': '12m', 'agg': 'trend', 'source': 'DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT',
         'sql': 'inst_late_rate_12m - inst_late_rate',
         'desc': 'Late-payment rate in the last 12 months minus the rate over the whole history: positive when the client pays later recently than they used to.'},
        {'name': 'inst_underpaid_rate_trend_12m', 'split': '12m', 'agg': 'trend', 'source': 'AMT_INSTALMENT, AMT_PAYMENT',
         'sql': 'inst_underpaid_rate_12m - inst_underpaid_rate',
         'desc': 'Short-payment rate in the last 12 months minus the rate over the whole history.'},
        {'name': 'inst_dpd_mean_trend_12m', 'split': '12m', 'agg': 'trend', 'source': 'DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT',
         'sql': 'inst_dpd_mean_12m - inst_dpd_mean',
         'desc': 'Mean days past due in the last 12 months minus the mean over the whole history.'},
    ], 'post')) -%}
    {{ return(out) }}
{%- endmacro %}
