{#- Features that combine tables (stage 'mart', computed in marts.client_features from the
    client-grain intermediate tables). Each compares the current application with the history. -#}

{% macro cross_table_features() -%}
    {%- set ctx = {'prefix': 'app', 'family': 'cross', 'source_table': 'application'} -%}
    {%- set out = expand_custom(ctx, [
        {'name': 'bureau_debt_income_ratio_active', 'table': 'bureau, application', 'split': 'active',
         'source': 'AMT_CREDIT_SUM_DEBT, AMT_INCOME_TOTAL',
         'sql': 'bureau_amt_credit_sum_debt_sum_active / nullif(app_amt_income_total, 0)',
         'desc': 'Remaining debt on active Credit Bureau credits / income: the outside debt load the new credit comes on top of.'},
        {'name': 'bureau_annuity_income_ratio_active', 'table': 'bureau, application', 'split': 'active',
         'source': 'AMT_ANNUITY, AMT_INCOME_TOTAL',
         'sql': 'bureau_amt_annuity_sum_active / nullif(app_amt_income_total, 0)',
         'desc': 'Annuities of active Credit Bureau credits / income: outside instalments already paid from the same income.'},
        {'name': 'app_total_annuity_income_ratio', 'table': 'application, bureau, previous_application',
         'source': 'AMT_ANNUITY, AMT_INCOME_TOTAL',
         'sql': '(app_amt_annuity + coalesce(bureau_amt_annuity_sum_active, 0) + coalesce(prev_amt_annuity_sum_running, 0)) / nullif(app_amt_income_total, 0)',
         'desc': "(Annuity applied for + annuities of active Credit Bureau credits + annuities of Home Credit loans still running) / income: the whole debt service if the credit is granted, where app_annuity_income_perc sees only the new loan."},
        {'name': 'app_annuity_prev_annuity_ratio', 'table': 'application, previous_application',
         'source': 'AMT_ANNUITY',
         'sql': 'app_amt_annuity / nullif(prev_amt_annuity_mean_approved, 0)',
         'desc': 'Annuity applied for / mean annuity of approved previous applications: a jump in instalment size compared with what the client handled before.'},
        {'name': 'app_annuity_last_prev_ratio', 'table': 'application, previous_application',
         'source': 'AMT_ANNUITY',
         'sql': 'app_amt_annuity / nullif(prev_amt_annuity_last, 0)',
         'desc': 'Annuity applied for / annuity of the latest previous application.'},
        {'name': 'app_credit_prev_credit_ratio', 'table': 'application, previous_application',
         'source': 'AMT_CREDIT',
         'sql': 'app_amt_credit / nullif(prev_amt_credit_mean_approved, 0)',
         'desc': 'Credit applied for / mean credit of approved previous applications: how much bigger the new credit is than those granted before.'},
        {'name': 'app_credit_bureau_credit_ratio', 'table': 'application, bureau',
         'source': 'AMT_CREDIT, AMT_CREDIT_SUM',
         'sql': 'app_amt_credit / nullif(bureau_amt_credit_sum_mean, 0)',
         'desc': 'Credit applied for / mean amount of Credit Bureau credits: the new credit against the size of the credits other lenders granted.'},
    ], 'mart') -%}
    {{ return(out) }}
{%- endmacro %}
