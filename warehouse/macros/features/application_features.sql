{#- Feature specs of the application row (stage 'row', model int_applications_enriched).
    Kernel families: every numeric column as is, the three binary columns as 0/1, one-hot of the
    other categoricals over the fixed vocabulary (a missing value is all zeros, as the kernel's
    nan_as_category=False), and the kernel's five ratios. Extras follow with their rationale. -#}

{% macro application_features() -%}
    {%- set ctx = {'prefix': 'app', 'family': 'application', 'source_table': 'application', 'columns': hc_columns('application')} -%}
    {%- set binary = {
        'FLAG_OWN_CAR': ["case flag_own_car when 'Y' then 1 when 'N' then 0 end", 'app_flag_own_car', '1 = Y, 0 = N'],
        'FLAG_OWN_REALTY': ["case flag_own_realty when 'Y' then 1 when 'N' then 0 end", 'app_flag_own_realty', '1 = Y, 0 = N'],
        'CODE_GENDER': ["case code_gender when 'M' then 1 when 'F' then 0 end", 'app_code_gender_m', '1 = M, 0 = F, null = XNA; a protected attribute, not a model input by default (CONTRACTS §5)'],
    } -%}
    {%- set out = [] -%}

    {#- numeric columns, as staged (sentinels already null) -#}
    {%- for column, spec in ctx['columns'].items()
            if spec['dtype'] != 'str' and column not in ('SK_ID_CURR', 'TARGET') -%}
        {%- set note = ' 365243 ("not employed") is null.' if column in hc_sentinels('application_train') else '' -%}
        {%- do out.append(feature(
            'app_' ~ column | lower, column | lower, 'row', spec['description'] ~ ' [' ~ column ~ '].' ~ note,
            'application', 'application', column, 'value')) -%}
    {%- endfor -%}

    {#- binary categoricals as one 0/1 column (kernel: factorize) -#}
    {%- for column, b in binary.items() -%}
        {%- do out.append(feature(
            b[1], b[0], 'row', ctx['columns'][column]['description'] ~ ' [' ~ column ~ '], ' ~ b[2] ~ '.',
            'application', 'application', column, 'binary')) -%}
    {%- endfor -%}

    {#- one-hot of the other categoricals over the fixed vocabulary -#}
    {%- for column, spec in ctx['columns'].items()
            if spec['dtype'] == 'str' and column not in binary -%}
        {%- for level in hc_vocabulary('application', column) -%}
            {%- do out.append(feature(
                'app_' ~ column | lower ~ '_' ~ slugify(level),
                'case when ' ~ column | lower ~ ' = ' ~ sql_string(level) ~ ' then 1 else 0 end', 'row',
                '1 when ' ~ column ~ " = '" ~ level ~ "' (" ~ spec['description'] ~ '), else 0 (missing = 0).',
                'application', 'application', column, 'one_hot')) -%}
        {%- endfor -%}
    {%- endfor -%}

    {#- the kernel's ratios -#}
    {%- do out.extend(expand_custom(ctx, [
        {'name': 'app_days_employed_perc', 'sql': 'days_employed / nullif(days_birth, 0)', 'source': 'DAYS_EMPLOYED, DAYS_BIRTH',
         'desc': 'DAYS_EMPLOYED / DAYS_BIRTH: share of the life spent in the current job (null when not employed).'},
        {'name': 'app_income_credit_perc', 'sql': 'amt_income_total / nullif(amt_credit, 0)', 'source': 'AMT_INCOME_TOTAL, AMT_CREDIT',
         'desc': 'AMT_INCOME_TOTAL / AMT_CREDIT: income relative to the credit applied for.'},
        {'name': 'app_income_per_person', 'sql': 'amt_income_total / nullif(cnt_fam_members, 0)', 'source': 'AMT_INCOME_TOTAL, CNT_FAM_MEMBERS',
         'desc': 'AMT_INCOME_TOTAL / CNT_FAM_MEMBERS: income per family member.'},
        {'name': 'app_annuity_income_perc', 'sql': 'amt_annuity / nullif(amt_income_total, 0)', 'source': 'AMT_ANNUITY, AMT_INCOME_TOTAL',
         'desc': 'AMT_ANNUITY / AMT_INCOME_TOTAL: share of the income taken by the annuity (debt burden).'},
        {'name': 'app_payment_rate', 'sql': 'amt_annuity / nullif(amt_credit, 0)', 'source': 'AMT_ANNUITY, AMT_CREDIT',
         'desc': 'AMT_ANNUITY / AMT_CREDIT: annuity per unit of credit, a proxy of term and price.'},
    ], 'row', 'kernel')) -%}

    {#- extras: EXT_SOURCE combinations, price/term ratios, counts of flags -#}
    {%- set ext = '[ext_source_1, ext_source_2, ext_source_3]' -%}
    {%- do out.extend(expand_custom(ctx, [
        {'name': 'app_ext_source_mean', 'sql': 'list_avg(' ~ ext ~ ')', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3', 'agg': 'combination',
         'desc': 'Mean of the available external scores EXT_SOURCE_1..3. The three scores are the strongest single predictors and are often missing (56 % / 0.2 % / 20 %); their mean uses whatever is present, so a client missing one score still gets a comparable value.'},
        {'name': 'app_ext_source_min', 'sql': 'list_min(' ~ ext ~ ')', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3', 'agg': 'combination',
         'desc': 'Lowest available external score: the most pessimistic outside opinion drives risk more than the average one.'},
        {'name': 'app_ext_source_max', 'sql': 'list_max(' ~ ext ~ ')', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3', 'agg': 'combination',
         'desc': 'Highest available external score.'},
        {'name': 'app_ext_source_std', 'sql': 'list_stddev_samp(' ~ ext ~ ')', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3', 'agg': 'combination',
         'desc': 'Sample standard deviation of the available external scores (null with fewer than two): disagreement between sources signals an uncertain file.'},
        {'name': 'app_ext_source_prod', 'sql': 'ext_source_1 * ext_source_2 * ext_source_3', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3', 'agg': 'combination',
         'desc': 'Product EXT_SOURCE_1 * EXT_SOURCE_2 * EXT_SOURCE_3 (null when any is missing): high only when all three sources agree the client is good.'},
        {'name': 'app_ext_source_weighted', 'agg': 'combination', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3',
         'sql': '(coalesce(ext_source_1, 0) * 1 + coalesce(ext_source_2, 0) * 2 + coalesce(ext_source_3, 0) * 3) / nullif((ext_source_1 is not null)::int * 1 + (ext_source_2 is not null)::int * 2 + (ext_source_3 is not null)::int * 3, 0)',
         'desc': 'Weighted mean of the available external scores with fixed weights 1, 2, 3 for EXT_SOURCE_1, _2, _3, renormalised over the scores present: EXT_SOURCE_1 is the most often missing and, in public analyses of the real data, the weakest of the three.'},
        {'name': 'app_ext_source_missing_count', 'agg': 'combination', 'source': 'EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3',
         'sql': '(ext_source_1 is null)::int + (ext_source_2 is null)::int + (ext_source_3 is null)::int',
         'desc': 'Number of missing external scores (0-3): a thin external file is itself informative.'},
        {'name': 'app_credit_goods_ratio', 'sql': 'amt_credit / nullif(amt_goods_price, 0)', 'source': 'AMT_CREDIT, AMT_GOODS_PRICE',
         'desc': 'AMT_CREDIT / AMT_GOODS_PRICE: above 1 the credit finances more than the goods (fees, insurance), below 1 the client made a down payment.'},
        {'name': 'app_credit_annuity_ratio', 'sql': 'amt_credit / nullif(amt_annuity, 0)', 'source': 'AMT_CREDIT, AMT_ANNUITY',
         'desc': 'AMT_CREDIT / AMT_ANNUITY: the number of annuities the credit represents, i.e. the term the loan would have without interest; long terms carry more risk.'},
        {'name': 'app_goods_income_ratio', 'sql': 'amt_goods_price / nullif(amt_income_total, 0)', 'source': 'AMT_GOODS_PRICE, AMT_INCOME_TOTAL',
         'desc': 'AMT_GOODS_PRICE / AMT_INCOME_TOTAL: how expensive the purchase is relative to the income.'},
        {'name': 'app_income_per_child', 'sql': 'amt_income_total / (1 + cnt_children)', 'source': 'AMT_INCOME_TOTAL, CNT_CHILDREN',
         'desc': 'AMT_INCOME_TOTAL / (1 + CNT_CHILDREN): income left per dependant child plus the client.'},
        {'name': 'app_phone_change_age_ratio', 'sql': 'days_last_phone_change / nullif(days_birth, 0)', 'source': 'DAYS_LAST_PHONE_CHANGE, DAYS_BIRTH',
         'desc': 'DAYS_LAST_PHONE_CHANGE / DAYS_BIRTH: recency of the phone change scaled by age (a recent change is a known fraud and instability signal).'},
        {'name': 'app_id_publish_age_ratio', 'sql': 'days_id_publish / nullif(days_birth, 0)', 'source': 'DAYS_ID_PUBLISH, DAYS_BIRTH',
         'desc': 'DAYS_ID_PUBLISH / DAYS_BIRTH: recency of the identity document change scaled by age.'},
        {'name': 'app_registration_age_ratio', 'sql': 'days_registration / nullif(days_birth, 0)', 'source': 'DAYS_REGISTRATION, DAYS_BIRTH',
         'desc': 'DAYS_REGISTRATION / DAYS_BIRTH: recency of the registration change scaled by age (stability of the address).'},
        {'name': 'app_car_age_ratio', 'sql': 'own_car_age / nullif(-days_birth / 365.25, 0)', 'source': 'OWN_CAR_AGE, DAYS_BIRTH',
         'desc': "OWN_CAR_AGE / age in years: the car's age relative to the client's (null without a car)."},
        {'name': 'app_document_count', 'agg': 'count', 'source': 'FLAG_DOCUMENT_2..21',
         'sql': 'flag_document_2 + flag_document_3 + flag_document_4 + flag_document_5 + flag_document_6 + flag_document_7 + flag_document_8 + flag_document_9 + flag_document_10 + flag_document_11 + flag_document_12 + flag_document_13 + flag_document_14 + flag_document_15 + flag_document_16 + flag_document_17 + flag_document_18 + flag_document_19 + flag_document_20 + flag_document_21',
         'desc': 'Number of documents provided (sum of FLAG_DOCUMENT_2..21): the 20 sparse flags in one dense count.'},
        {'name': 'app_contact_count', 'agg': 'count', 'source': 'FLAG_MOBIL, FLAG_EMP_PHONE, FLAG_WORK_PHONE, FLAG_CONT_MOBILE, FLAG_PHONE, FLAG_EMAIL',
         'sql': 'flag_mobil + flag_emp_phone + flag_work_phone + flag_cont_mobile + flag_phone + flag_email',
         'desc': 'Number of contact channels provided (sum of the six phone/e-mail flags): reachability of the client.'},
        {'name': 'app_address_mismatch_count', 'agg': 'count', 'source': 'REG_REGION_NOT_LIVE_REGION .. LIVE_CITY_NOT_WORK_CITY',
         'sql': 'reg_region_not_live_region + reg_region_not_work_region + live_region_not_work_region + reg_city_not_live_city + reg_city_not_work_city + live_city_not_work_city',
         'desc': 'Number of mismatches between permanent, contact and work addresses (sum of the six REG_/LIVE_ flags).'},
        {'name': 'app_credit_bureau_requests_sum', 'agg': 'count', 'source': 'AMT_REQ_CREDIT_BUREAU_HOUR .. AMT_REQ_CREDIT_BUREAU_YEAR',
         'sql': 'list_sum([amt_req_credit_bureau_hour, amt_req_credit_bureau_day, amt_req_credit_bureau_week, amt_req_credit_bureau_mon, amt_req_credit_bureau_qrt, amt_req_credit_bureau_year])',
         'desc': 'Number of Credit Bureau enquiries in the year before the application (sum of the six AMT_REQ_CREDIT_BUREAU_* windows; null when all are missing): credit hunger.'},
        {'name': 'app_def_30_social_ratio', 'sql': 'def_30_cnt_social_circle / nullif(obs_30_cnt_social_circle, 0)', 'source': 'DEF_30_CNT_SOCIAL_CIRCLE, OBS_30_CNT_SOCIAL_CIRCLE',
         'desc': "DEF_30_CNT_SOCIAL_CIRCLE / OBS_30_CNT_SOCIAL_CIRCLE: default rate of the client's social surroundings (null when none observed)."},
        {'name': 'app_def_60_social_ratio', 'sql': 'def_60_cnt_social_circle / nullif(obs_60_cnt_social_circle, 0)', 'source': 'DEF_60_CNT_SOCIAL_CIRCLE, OBS_60_CNT_SOCIAL_CIRCLE',
         'desc': 'DEF_60_CNT_SOCIAL_CIRCLE / OBS_60_CNT_SOCIAL_CIRCLE: as app_def_30_social_ratio with 60 days past due.'},
    ], 'row', 'extra')) -%}
    {{ return(out) }}
{%- endmacro %}
