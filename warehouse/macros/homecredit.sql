{#- Knowledge about the Home Credit files that staging and the feature specs share.
    The per-column facts (kind, description, levels) are generated into homecredit_columns(table);
    what is decided here is how the warehouse reads them (FACTS §1–4). -#}

{#- Levels that mean "not available / not applicable" (FACTS §3–4): staged as null, so a
    missing value is one thing (null) whatever the file spelled it as. -#}
{% macro hc_missing_levels(column) -%}
    {%- set per_column = {'NAME_FAMILY_STATUS': ['Unknown']} -%}
    {{ return(['XNA', 'XAP'] + per_column.get(column, [])) }}
{%- endmacro %}

{#- Rare levels of the real files that the ~7.5k-row sample behind the schema missed (FACTS §3).
    Part of the fixed vocabulary so the real data's rare levels get their own one-hot column. -#}
{% macro hc_extra_levels(table, column) -%}
    {%- set extra = {
        'application': {'NAME_INCOME_TYPE': ['Student', 'Maternity leave']},
    } -%}
    {{ return(extra.get(table, {}).get(column, [])) }}
{%- endmacro %}

{#- Numeric sentinels staged as null: 365243 days means "never / not employed" (FACTS §1–2);
    SELLERPLACE_AREA uses -1 for unknown (FACTS §4). -#}
{% macro hc_sentinels(table) -%}
    {%- set days = 365243 -%}
    {%- set by_table = {
        'application_train': {'DAYS_EMPLOYED': days},
        'application_test': {'DAYS_EMPLOYED': days},
        'previous_application': {
            'DAYS_FIRST_DRAWING': days, 'DAYS_FIRST_DUE': days, 'DAYS_LAST_DUE_1ST_VERSION': days,
            'DAYS_LAST_DUE': days, 'DAYS_TERMINATION': days, 'SELLERPLACE_AREA': -1,
        },
    } -%}
    {{ return(by_table.get(table, {})) }}
{%- endmacro %}

{#- The columns of a raw table: {KAGGLE_NAME: {kind, dtype, missing_pct, description, levels}}
    (generated: macros/generated/homecredit_dictionary.sql). 'application' means train and test
    together (test = train without TARGET). Each call builds the table's literal: callers that
    look up many columns fetch the table once and pass it on (`columns`). -#}
{% macro hc_columns(table) -%}
    {{ return(homecredit_columns('application_train' if table == 'application' else table)) }}
{%- endmacro %}

{% macro hc_column(table, column, columns=none) -%}
    {%- set columns = columns or hc_columns(table) -%}
    {%- if column not in columns -%}
        {{ exceptions.raise_compiler_error('unknown column ' ~ table ~ '.' ~ column) }}
    {%- endif -%}
    {{ return(columns[column]) }}
{%- endmacro %}

{#- The fixed one-hot vocabulary of a categorical column: the schema's levels (train and test
    together for applications) plus the documented rare levels, minus the levels staged as null.
    Never derived from the data, so train and test (and every refresh) get the same columns. -#}
{% macro hc_vocabulary(table, column) -%}
    {%- set levels = [] -%}
    {%- set missing = hc_missing_levels(column) -%}
    {%- set sources = ['application_train', 'application_test'] if table == 'application' else [table] -%}
    {%- for source in sources -%}
        {%- for level in homecredit_columns(source)[column]['levels'] + hc_extra_levels(table, column) -%}
            {%- if level not in levels and level not in missing -%}
                {%- do levels.append(level) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(levels) }}
{%- endmacro %}

{#- True when a categorical column can be null after staging (missing in the files, or a
    missing-level spelling in its sample levels): only those get a `missing` share. -#}
{% macro hc_can_be_missing(table, column, columns=none) -%}
    {%- set spec = hc_column(table, column, columns) -%}
    {%- set missing = hc_missing_levels(column) -%}
    {%- set spelled_missing = [] -%}
    {%- for level in spec['levels'] if level in missing -%}
        {%- do spelled_missing.append(level) -%}
    {%- endfor -%}
    {{ return(spec['missing_pct'] > 0 or spelled_missing | length > 0) }}
{%- endmacro %}

{#- 'Spouse, partner' -> spouse_partner; 'Trade: type 7' -> trade_type_7. -#}
{% macro slugify(text) -%}
    {{ return(modules.re.sub('[^0-9a-z]+', '_', text | lower).strip('_')) }}
{%- endmacro %}

{% macro sql_string(text) -%}
    {{ return("'" ~ (text | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{#- One staged column: missing-level spellings to null, sentinels to null, integer-valued
    doubles (FACTS: pandas writes them with `.0`) back to BIGINT. Renames nothing: Kaggle names
    in lower case are the warehouse names. -#}
{% macro hc_stage_column(column, spec, sentinels) -%}
    {%- set name = column | lower -%}
    {%- if spec['dtype'] == 'str' -%}
        {%- set missing = [] -%}
        {%- for level in hc_missing_levels(column) -%}{%- do missing.append(sql_string(level)) -%}{%- endfor -%}
        case when {{ name }} in ({{ missing | join(', ') }}) then null else {{ name }} end
    {%- elif spec['dtype'] == 'float' and spec['kind'] != 'float' -%}
        {%- if column in sentinels -%}
            cast(nullif({{ name }}, {{ sentinels[column] }}) as bigint)
        {%- else -%}
            cast({{ name }} as bigint)
        {%- endif -%}
    {%- elif column in sentinels -%}
        nullif({{ name }}, {{ sentinels[column] }})
    {%- else -%}
        {{ name }}
    {%- endif -%}
{%- endmacro %}

{#- The select list of a staged table, in file order, minus `exclude` (Kaggle names). -#}
{% macro hc_stage_columns(table, exclude=[]) -%}
    {%- set sentinels = hc_sentinels(table) -%}
    {%- for column, spec in homecredit_columns(table).items() if column not in exclude %}
        {{ hc_stage_column(column, spec, sentinels) }} as {{ column | lower }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
