{#- Feature specs of previous Home Credit applications (model
    int_previous_applications_aggregated_to_clients over int_previous_applications_enriched,
    which adds app_credit_perc, the reconstructed interest rate and the recency rank). -#}

{% macro previous_application_features() -%}
    {%- set ctx = {
        'prefix': 'prev', 'family': 'previous_application', 'source_table': 'previous_application',
        'columns': hc_columns('previous_application'),
        'unit': 'previous applications', 'unit_one': 'previous application (latest DAYS_DECISION)',
        'splits': {
            'all': {'where': '', 'label': ''},
            'approved': {'where': "name_contract_status = 'Approved'", 'label': 'approved applications only'},
            'refused': {'where': "name_contract_status = 'Refused'", 'label': 'refused applications only'},
            'last': {'where': 'recency_rank = 1', 'label': 'the latest application (DAYS_DECISION) only'},
            'last3': {'where': 'recency_rank <= 3', 'label': 'the 3 latest applications (DAYS_DECISION) only'},
            '12m': {'where': 'days_decision >= -365', 'label': 'applications decided in the last 12 months'},
            'running': {'where': "name_contract_status = 'Approved' and days_last_due_1st_version > 0",
                        'label': 'approved loans still running at the current application (DAYS_LAST_DUE_1ST_VERSION > 0)'},
        },
    } -%}
    {%- set app_credit_perc = {'col': 'app_credit_perc', 'aggs': ['min', 'max', 'mean', 'var'],
        'source': 'AMT_APPLICATION / AMT_CREDIT',
        'desc': 'AMT_APPLICATION / AMT_CREDIT, the amount asked for relative to the amount granted (null when AMT_CREDIT = 0)'} -%}
    {%- set interest_rate = {'col': 'interest_rate', 'source': 'AMT_ANNUITY, AMT_CREDIT, CNT_PAYMENT',
        'desc': 'the reconstructed annual effective interest rate of the loan, (1 + r)^12 - 1 where the monthly rate r solves AMT_ANNUITY = AMT_CREDIT * r / (1 - (1 + r)^-CNT_PAYMENT); 0 for interest-free loans'} -%}
    {%- set kernel_numeric = [
        {'col': 'amt_annuity', 'aggs': ['min', 'max', 'mean']},
        {'col': 'amt_application', 'aggs': ['min', 'max', 'mean']},
        {'col': 'amt_credit', 'aggs': ['min', 'max', 'mean']},
        app_credit_perc,
        {'col': 'amt_down_payment', 'aggs': ['min', 'max', 'mean']},
        {'col': 'amt_goods_price', 'aggs': ['min', 'max', 'mean']},
        {'col': 'hour_appr_process_start', 'aggs': ['min', 'max', 'mean']},
        {'col': 'rate_down_payment', 'aggs': ['min', 'max', 'mean']},
        {'col': 'days_decision', 'aggs': ['min', 'max', 'mean']},
        {'col': 'cnt_payment', 'aggs': ['mean', 'sum']},
    ] -%}
    {%- set categoricals = [] -%}
    {%- for column, spec in ctx['columns'].items() if spec['dtype'] == 'str' -%}
        {%- do categoricals.append(column) -%}
    {%- endfor -%}
    {%- set out = [] -%}
    {#- kernel: numeric aggregations for all / approved / refused, one-hot shares of every categorical -#}
    {%- for split in ['all', 'approved', 'refused'] -%}
        {%- do out.extend(expand_measures(ctx, kernel_numeric, split)) -%}
    {%- endfor -%}
    {%- do out.extend(expand_level_shares(ctx, categoricals)) -%}

    {#- extras: counts, reconstructed prices, the latest applications, running loans -#}
    {%- do out.extend(expand_counts(ctx, ['all', 'approved', 'refused', '12m', 'running'])) -%}
    {%- for split in ['all', 'approved'] -%}
        {%- do out.extend(expand_measures(ctx, [dict(interest_rate, aggs=['min', 'max', 'mean'])], split, 'extra')) -%}
    {%- endfor -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'total_repayment_ratio', 'aggs': ['mean', 'max'], 'source': 'AMT_ANNUITY, CNT_PAYMENT, AMT_CREDIT',
         'desc': 'AMT_ANNUITY * CNT_PAYMENT / AMT_CREDIT, the total repaid per unit of credit (the price of the loan without solving for a rate)'},
        {'col': 'early_repayment_days', 'sql': 'days_last_due_1st_version - days_last_due', 'aggs': ['mean'],
         'source': 'DAYS_LAST_DUE_1ST_VERSION - DAYS_LAST_DUE',
         'desc': 'the days between the planned and the actual last due date (positive = repaid early)'},
        {'col': 'nflag_insured_on_approval', 'aggs': ['mean']},
    ], 'approved', 'extra')) -%}
    {%- set latest = [
        {'col': 'amt_credit', 'aggs': ['last']},
        {'col': 'amt_annuity', 'aggs': ['last']},
        {'col': 'amt_application', 'aggs': ['last']},
        dict(app_credit_perc, aggs=['last']),
        dict(interest_rate, aggs=['last']),
        {'col': 'cnt_payment', 'aggs': ['last']},
        {'col': 'days_decision', 'aggs': ['last']},
        {'col': 'refused', 'sql': "cast(name_contract_status = 'Refused' as integer)", 'aggs': ['last'],
         'source': 'NAME_CONTRACT_STATUS', 'desc': '1 when the application was refused, else 0'},
    ] -%}
    {%- do out.extend(expand_measures(ctx, latest, 'last', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'amt_credit', 'aggs': ['mean']},
        {'col': 'amt_annuity', 'aggs': ['mean']},
        dict(interest_rate, aggs=['mean']),
        {'col': 'cnt_payment', 'aggs': ['mean']},
        {'col': 'days_decision', 'aggs': ['mean']},
    ], 'last3', 'extra')) -%}
    {%- set refused = {'col': 'refused', 'cond': "name_contract_status = 'Refused'", 'source': 'NAME_CONTRACT_STATUS',
        'desc': 'the application was refused'} -%}
    {%- set approved = {'col': 'approved', 'cond': "name_contract_status = 'Approved'", 'source': 'NAME_CONTRACT_STATUS',
        'desc': 'the application was approved'} -%}
    {%- do out.extend(expand_conditions(ctx, [refused, approved], 'last3')) -%}
    {%- do out.extend(expand_conditions(ctx, [refused], '12m')) -%}
    {%- do out.extend(expand_measures(ctx, [{'col': 'amt_credit', 'aggs': ['mean']}], '12m', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'amt_annuity', 'aggs': ['sum'],
         'desc': 'Annuity of previous application; the instalments the client still pays to Home Credit'},
        {'col': 'days_last_due_1st_version', 'aggs': ['max']},
    ], 'running', 'extra')) -%}
    {%- do out.extend(expand_custom(ctx, [
        {'name': 'prev_refused_share_trend_last3', 'split': 'last3', 'agg': 'trend', 'source': 'NAME_CONTRACT_STATUS',
         'sql': 'prev_refused_share_last3 - prev_name_contract_status_refused_share',
         'desc': 'Refused share among the 3 latest applications minus the refused share over all applications: positive when refusals are recent (deteriorating), negative when they are old history.'},
    ], 'post')) -%}
    {{ return(out) }}
{%- endmacro %}
