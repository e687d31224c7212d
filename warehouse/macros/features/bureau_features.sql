{#- Feature specs of the Credit Bureau: bureau_balance aggregated to bureau credits (stage 1,
    model int_bureau_balances_aggregated_to_bureau_credits), then bureau credits with their
    stage-1 columns aggregated to clients (model int_bureau_credits_aggregated_to_clients). -#}

{% macro bureau_balance_credit_features() -%}
    {%- set ctx = {
        'prefix': 'bb', 'family': 'bureau', 'source_table': 'bureau_balance', 'columns': hc_columns('bureau_balance'),
        'unit': 'monthly Credit Bureau balances of the credit',
        'splits': {
            'all': {'where': '', 'label': ''},
            '12m': {'where': 'months_balance >= -12', 'label': 'last 12 months (MONTHS_BALANCE >= -12)'},
        },
    } -%}
    {%- set worst = "case when status in ('0', '1', '2', '3', '4', '5') then cast(status as integer) end" -%}
    {%- set out = [] -%}
    {#- kernel: months min/max/size and STATUS shares per credit -#}
    {%- do out.extend(expand_measures(ctx, [{'col': 'months_balance', 'aggs': ['min', 'max', 'size']}])) -%}
    {%- do out.extend(expand_level_shares(ctx, ['STATUS'])) -%}
    {#- extras: late months and worst delinquency bucket, overall and in the last 12 months -#}
    {%- for split in ['all', '12m'] -%}
        {%- do out.extend(expand_conditions(ctx, [
            {'col': 'dpd', 'cond': "status in ('1', '2', '3', '4', '5')", 'source': 'STATUS',
             'desc': 'STATUS is 1-5 (days past due)'},
        ], split)) -%}
        {%- do out.extend(expand_measures(ctx, [
            {'col': 'worst_status', 'sql': worst, 'aggs': ['max'], 'source': 'STATUS',
             'desc': 'the delinquency bucket (STATUS 0-5 as a number, C and X ignored)'},
        ], split, 'extra')) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{% macro bureau_features() -%}
    {%- set ctx = {
        'prefix': 'bureau', 'family': 'bureau', 'source_table': 'bureau', 'columns': hc_columns('bureau'),
        'unit': 'Credit Bureau credits',
        'splits': {
            'all': {'where': '', 'label': ''},
            'active': {'where': "credit_active = 'Active'", 'label': 'active credits only'},
            'closed': {'where': "credit_active = 'Closed'", 'label': 'closed credits only'},
            '12m': {'where': 'days_credit >= -365', 'label': 'credits opened in the last 12 months'},
        },
    } -%}
    {%- set bb = 'bureau_balance' -%}
    {#- the kernel's numeric aggregations, for all / active / closed credits -#}
    {%- set kernel_numeric = [
        {'col': 'days_credit', 'aggs': ['min', 'max', 'mean', 'var']},
        {'col': 'days_credit_enddate', 'aggs': ['min', 'max', 'mean']},
        {'col': 'days_credit_update', 'aggs': ['mean']},
        {'col': 'credit_day_overdue', 'aggs': ['max', 'mean']},
        {'col': 'amt_credit_max_overdue', 'aggs': ['mean']},
        {'col': 'amt_credit_sum', 'aggs': ['max', 'mean', 'sum']},
        {'col': 'amt_credit_sum_debt', 'aggs': ['max', 'mean', 'sum']},
        {'col': 'amt_credit_sum_overdue', 'aggs': ['mean']},
        {'col': 'amt_credit_sum_limit', 'aggs': ['mean', 'sum']},
        {'col': 'amt_annuity', 'aggs': ['max', 'mean']},
        {'col': 'cnt_credit_prolong', 'aggs': ['sum']},
        {'col': 'bb_months_balance_min', 'aggs': ['min'], 'table': bb, 'source': 'MONTHS_BALANCE',
         'desc': "the first month of the credit's monthly balance history (per-credit MONTHS_BALANCE minimum)"},
        {'col': 'bb_months_balance_max', 'aggs': ['max'], 'table': bb, 'source': 'MONTHS_BALANCE',
         'desc': "the last month of the credit's monthly balance history (per-credit MONTHS_BALANCE maximum)"},
        {'col': 'bb_months_balance_size', 'aggs': ['mean', 'sum'], 'table': bb, 'source': 'MONTHS_BALANCE',
         'desc': "the number of months in the credit's monthly balance history"},
    ] -%}
    {%- set out = [] -%}
    {%- for split in ['all', 'active', 'closed'] -%}
        {%- do out.extend(expand_measures(ctx, kernel_numeric, split)) -%}
    {%- endfor -%}
    {#- kernel: one-hot shares of the bureau categoricals, and the mean over credits of each
        credit's share of months per STATUS -#}
    {%- do out.extend(expand_level_shares(ctx, ['CREDIT_ACTIVE', 'CREDIT_CURRENCY', 'CREDIT_TYPE'])) -%}
    {%- set status_shares = [] -%}
    {%- for level in hc_vocabulary(bb, 'STATUS') -%}
        {%- do status_shares.append({
            'col': 'bb_status_' ~ slugify(level) ~ '_share', 'aggs': ['mean'], 'table': bb, 'source': 'STATUS',
            'desc': "the credit's share of months with STATUS = '" ~ level ~ "' (" ~ hc_column(bb, 'STATUS')['description'] ~ ')'}) -%}
    {%- endfor -%}
    {%- do out.extend(expand_measures(ctx, status_shares)) -%}

    {#- extras -#}
    {%- do out.extend(expand_counts(ctx, ['all', 'active', 'closed', '12m'])) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'amt_credit_sum_overdue', 'aggs': ['sum'],
         'desc': 'Current amount overdue on Credit Bureau credit; the overdue amount still open on active credits'},
        {'col': 'amt_annuity', 'aggs': ['sum'],
         'desc': 'Annuity of the Credit Bureau credit; the instalments the client already pays elsewhere'},
    ], 'active', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'credit_duration', 'sql': 'days_credit_enddate - days_credit', 'aggs': ['mean', 'max'],
         'source': 'DAYS_CREDIT_ENDDATE - DAYS_CREDIT',
         'desc': 'the planned duration of the credit in days (long credits are mortgages and cars, short ones consumer loans)'},
    ], 'all', 'extra')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'early_close_days', 'sql': 'days_credit_enddate - days_enddate_fact', 'aggs': ['mean'],
         'source': 'DAYS_CREDIT_ENDDATE - DAYS_ENDDATE_FACT',
         'desc': 'the days a closed credit was closed before (positive) or after (negative) its planned end; repaying early is a good sign, closing late a bad one'},
    ], 'closed', 'extra')) -%}
    {%- do out.extend(expand_conditions(ctx, [
        {'col': 'overdue_now', 'cond': 'credit_day_overdue > 0', 'source': 'CREDIT_DAY_OVERDUE',
         'desc': 'the credit is overdue today (CREDIT_DAY_OVERDUE > 0)'},
        {'col': 'prolonged', 'cond': 'cnt_credit_prolong > 0', 'source': 'CNT_CREDIT_PROLONG',
         'desc': 'the credit was prolonged at least once'},
    ], 'all')) -%}
    {%- do out.extend(expand_measures(ctx, [
        {'col': 'bb_dpd_share', 'aggs': ['mean', 'max'], 'table': bb, 'source': 'STATUS',
         'desc': "the credit's share of months past due (STATUS 1-5)"},
        {'col': 'bb_worst_status', 'sql': 'bb_worst_status_max', 'aggs': ['max'], 'table': bb, 'source': 'STATUS',
         'desc': "the credit's worst delinquency bucket (STATUS 0-5)"},
        {'col': 'bb_dpd_share', 'sql': 'bb_dpd_share_12m', 'aggs': ['mean', 'max'], 'table': bb, 'source': 'STATUS',
         'suffix': '12m', 'suffix_label': ', using the last 12 months of each history only',
         'desc': "the credit's share of months past due (STATUS 1-5)"},
        {'col': 'bb_worst_status', 'sql': 'bb_worst_status_max_12m', 'aggs': ['max'], 'table': bb, 'source': 'STATUS',
         'suffix': '12m', 'suffix_label': ', using the last 12 months of each history only',
         'desc': "the credit's worst delinquency bucket (STATUS 0-5)"},
    ], 'all', 'extra')) -%}
    {%- do out.extend(expand_custom(ctx, [
        {'name': 'bureau_debt_credit_ratio_active', 'split': 'active', 'source': 'AMT_CREDIT_SUM_DEBT, AMT_CREDIT_SUM',
         'sql': 'bureau_amt_credit_sum_debt_sum_active / nullif(bureau_amt_credit_sum_sum_active, 0)',
         'desc': 'Remaining debt / credit amount summed over active credits: how much of the outside credit is still to be repaid.'},
        {'name': 'bureau_overdue_debt_ratio_active', 'split': 'active', 'source': 'AMT_CREDIT_SUM_OVERDUE, AMT_CREDIT_SUM_DEBT',
         'sql': 'bureau_amt_credit_sum_overdue_sum_active / nullif(bureau_amt_credit_sum_debt_sum_active, 0)',
         'desc': 'Overdue amount / remaining debt summed over active credits: the part of the outside debt already in arrears.'},
    ], 'post')) -%}
    {{ return(out) }}
{%- endmacro %}
