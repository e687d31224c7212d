{#- The feature engine: feature specs (macros/features/*.sql) expand into feature records, and
    the same records render the SQL of the intermediate models, the column list of
    marts.client_features and the rows of marts.feature_catalog, so a feature's name, formula
    and description cannot drift apart.

    A feature record: {name, sql, stage, description, family, source_table, source_column,
    aggregation, split_or_window, origin}
      stage  'row'  — a row-level expression over one staged row (application features)
             'agg'  — an aggregate over the rows of a client, with FILTER for splits/windows
             'post' — an expression over the 'agg' features of the same model
             'mart' — an expression over features of several models (computed in the mart)
      origin 'kernel' — a feature family of the public kernel "LightGBM with Simple Features"
             'extra'  — our additions (windows, trends, rates, combinations), documented
    NaN semantics as pandas (CONTRACTS §5): aggregates skip nulls; a sum over rows whose values
    are all missing is 0 (pandas min_count=0), a client without rows in the split gets null;
    variances are sample variances; ratios use nullif(denominator, 0). -#}

{% macro feature(name, sql, stage, description, family, source_table, source_column, aggregation, split_or_window='', origin='kernel') -%}
    {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', name) -%}
        {{ exceptions.raise_compiler_error('feature name is not snake_case: ' ~ name) }}
    {%- endif -%}
    {{ return({
        'name': name, 'sql': sql, 'stage': stage, 'description': description, 'family': family,
        'source_table': source_table, 'source_column': source_column, 'aggregation': aggregation,
        'split_or_window': split_or_window, 'origin': origin,
    }) }}
{%- endmacro %}

{#- SQL of one aggregate, optionally restricted to a split/window with FILTER, so all splits of
    a table are computed together, without a scan per split. -#}
{% macro agg_sql(agg, expr, where='') -%}
    {%- set filt = (' filter (where ' ~ where ~ ')') if where else '' -%}
    {%- if agg in ('min', 'max') -%}
        {{ agg }}({{ expr }}){{ filt }}
    {%- elif agg == 'mean' -%}
        avg({{ expr }}){{ filt }}
    {%- elif agg == 'sum' -%}
        {#- pandas: the sum of a group whose values are all missing is 0, not missing -#}
        cast(sum(coalesce({{ expr }}, 0)){{ filt }} as double)
    {%- elif agg == 'var' -%}
        var_samp({{ expr }}){{ filt }}
    {%- elif agg == 'std' -%}
        stddev_samp({{ expr }}){{ filt }}
    {%- elif agg in ('size', 'count') -%}
        count(*){{ filt }}
    {%- elif agg == 'nunique' -%}
        count(distinct {{ expr }}){{ filt }}
    {%- elif agg == 'share' -%}
        {#- one-hot mean as pandas get_dummies: a null value counts as "not this level" -#}
        avg(case when {{ expr }} then 1.0 else 0.0 end){{ filt }}
    {%- elif agg == 'rate' -%}
        {#- share among rows where the condition is known (unknown rows skipped) -#}
        avg(cast({{ expr }} as double)){{ filt }}
    {%- elif agg == 'last' -%}
        {#- the filter selects one row (the latest); max() just picks it -#}
        max({{ expr }}){{ filt }}
    {%- elif agg == 'slope' -%}
        {#- expr is "y, x": least-squares slope of y on x -#}
        regr_slope({{ expr }}){{ filt }}
    {%- else -%}
        {{ exceptions.raise_compiler_error('unknown aggregation ' ~ agg) }}
    {%- endif -%}
{%- endmacro %}

{% macro agg_phrase(agg) -%}
    {%- set phrases = {
        'min': 'Minimum', 'max': 'Maximum', 'mean': 'Mean', 'sum': 'Sum (0 when all values are missing)',
        'var': 'Sample variance', 'std': 'Sample standard deviation', 'nunique': 'Number of distinct values',
        'last': 'Value on the latest', 'slope': 'Least-squares slope per month',
    } -%}
    {{ return(phrases[agg]) }}
{%- endmacro %}

{#- "the client's <unit>[, <split label>]" -#}
{% macro unit_phrase(ctx, split) -%}
    {%- set label = ctx['splits'][split]['label'] -%}
    {{ return("the client's " ~ ctx['unit'] ~ ((', ' ~ label) if label else '')) }}
{%- endmacro %}

{#- Expand numeric measures for one split. ctx: {prefix, family, source_table, columns (=
    hc_columns(source_table), fetched once), unit, unit_one, splits: {name: {where, label}}}; measure: {col, aggs, sql?, source?, desc?, origin?}.
    Name: <prefix>_<col>_<agg>[_<split>]. -#}
{#- m.table overrides ctx.source_table (e.g. bureau_balance-derived columns of bureau);
    m.suffix names a window precomputed upstream (name and split_or_window, no FILTER);
    agg 'last' takes the split 'last' and no suffix: <prefix>_<col>_last. -#}
{% macro expand_measures(ctx, measures, split='all', origin='kernel') -%}
    {%- set out = [] -%}
    {%- set where = ctx['splits'][split]['where'] -%}
    {%- for m in measures -%}
        {%- set table = m.get('table', ctx['source_table']) -%}
        {%- set source = m.get('source', m['col'] | upper) -%}
        {%- set desc = m.get('desc') or hc_column(table, source, ctx['columns'] if table == ctx['source_table'] else none)['description'] -%}
        {%- set suffix = m.get('suffix', '' if split == 'all' else split) -%}
        {%- for agg in m['aggs'] -%}
            {%- if agg in ('size', 'count') -%}
                {%- set text = 'Number of ' ~ unit_phrase(ctx, split) ~ '.' -%}
            {%- elif agg == 'last' -%}
                {%- set text = agg_phrase(agg) ~ ' ' ~ ctx['unit_one'] ~ ' of ' ~ desc ~ ' [' ~ source ~ '].' -%}
            {%- else -%}
                {%- set text = agg_phrase(agg) ~ ' of ' ~ desc ~ ' [' ~ source ~ '] over ' ~ unit_phrase(ctx, split) ~ (m.get('suffix_label', '')) ~ '.' -%}
            {%- endif -%}
            {%- set name = ctx['prefix'] ~ '_' ~ m['col'] ~ '_' ~ agg ~ (('_' ~ suffix) if suffix and agg != 'last' else '') -%}
            {%- do out.append(feature(
                name, agg_sql(agg, m.get('sql', m['col']), where), 'agg', text, ctx['family'],
                table, source, agg, suffix, m.get('origin', origin))) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- Boolean conditions as shares: {col, cond, desc, source, agg ('share'|'rate')}.
    Name: <prefix>_<col>_<agg>[_<split>]. -#}
{% macro expand_conditions(ctx, conditions, split='all', origin='extra') -%}
    {%- set out = [] -%}
    {%- set where = ctx['splits'][split]['where'] -%}
    {%- for c in conditions -%}
        {%- set agg = c.get('agg', 'share') -%}
        {%- set among = '' if agg == 'share' else ', among those where it is known' -%}
        {%- set text = 'Share of ' ~ unit_phrase(ctx, split) ~ ' where ' ~ c['desc'] ~ among ~ '.' -%}
        {%- set name = ctx['prefix'] ~ '_' ~ c['col'] ~ '_' ~ agg ~ ('' if split == 'all' else '_' ~ split) -%}
        {%- do out.append(feature(
            name, agg_sql(agg, c['cond'], where), 'agg', text, ctx['family'], ctx['source_table'],
            c['source'], agg, '' if split == 'all' else split, c.get('origin', origin))) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- One-hot shares over the FIXED vocabulary of each column, plus a `missing` share for
    columns that can be null after staging (pandas get_dummies(dummy_na=True)).
    Name: <prefix>_<column>_<level>_share[_<split>]. -#}
{% macro expand_level_shares(ctx, columns, split='all', origin='kernel', vocabulary_table=none) -%}
    {%- set out = [] -%}
    {%- set where = ctx['splits'][split]['where'] -%}
    {%- set vocab_table = vocabulary_table or ctx['source_table'] -%}
    {%- set suffix = '' if split == 'all' else '_' ~ split -%}
    {%- for column in columns -%}
        {%- set col = column | lower -%}
        {%- set columns = ctx['columns'] if vocab_table == ctx['source_table'] else hc_columns(vocab_table) -%}
        {%- set desc = hc_column(vocab_table, column, columns)['description'] -%}
        {%- for level in hc_vocabulary(vocab_table, column) -%}
            {%- set text = 'Share of ' ~ unit_phrase(ctx, split) ~ ' with ' ~ column ~ " = '" ~ level ~ "' (" ~ desc ~ ').' -%}
            {%- do out.append(feature(
                ctx['prefix'] ~ '_' ~ col ~ '_' ~ slugify(level) ~ '_share' ~ suffix,
                agg_sql('share', col ~ ' = ' ~ sql_string(level), where), 'agg', text, ctx['family'],
                ctx['source_table'], column, 'share', '' if split == 'all' else split, origin)) -%}
        {%- endfor -%}
        {%- if hc_can_be_missing(vocab_table, column, columns) -%}
            {%- set text = 'Share of ' ~ unit_phrase(ctx, split) ~ ' with ' ~ column ~ ' missing (empty, XNA or XAP) (' ~ desc ~ ').' -%}
            {%- do out.append(feature(
                ctx['prefix'] ~ '_' ~ col ~ '_missing_share' ~ suffix,
                agg_sql('share', col ~ ' is null', where), 'agg', text, ctx['family'],
                ctx['source_table'], column, 'share', '' if split == 'all' else split, origin)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- Row counts per split: <prefix>_count[_<split>]. -#}
{% macro expand_counts(ctx, splits, origin='extra') -%}
    {%- set out = [] -%}
    {%- for split in splits -%}
        {%- do out.append(feature(
            ctx['prefix'] ~ '_count' ~ ('' if split == 'all' else '_' ~ split),
            agg_sql('count', '', ctx['splits'][split]['where']), 'agg',
            'Number of ' ~ ctx['unit'] ~ ' of the client' ~ ((', ' ~ ctx['splits'][split]['label']) if ctx['splits'][split]['label'] else '') ~ '.',
            ctx['family'], ctx['source_table'], '', 'count', '' if split == 'all' else split, origin)) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- A hand-written feature (ratios, trends, combinations): spec {name, sql, desc, source, agg?,
    split?}; the description must state the formula and why the feature exists. -#}
{% macro expand_custom(ctx, specs, stage, origin='extra') -%}
    {%- set out = [] -%}
    {%- for s in specs -%}
        {%- do out.append(feature(
            s['name'], s['sql'], stage, s['desc'], ctx['family'], s.get('table', ctx['source_table']),
            s['source'], s.get('agg', 'ratio'), s.get('split', ''), s.get('origin', origin))) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- `<sql> as <name>` lines of the features of one stage, comma-separated. -#}
{% macro feature_select_list(features, stage) -%}
    {%- for f in features if f['stage'] == stage %}
        {{ f['sql'] }} as {{ f['name'] }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro feature_names(features, stage=none) -%}
    {%- set names = [] -%}
    {%- for f in features if stage is none or f['stage'] == stage -%}
        {%- do names.append(f['name']) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- Every feature of marts.client_features, in column order. -#}
{% macro all_features() -%}
    {{ return(
        application_features() + bureau_features() + previous_application_features()
        + pos_cash_features() + installment_features() + credit_card_features()
        + cross_table_features()
    ) }}
{%- endmacro %}

{#- The 'agg' features of a list, in `passes` blocks of (nearly) equal size, in order. -#}
{% macro aggregate_chunks(features, passes) -%}
    {%- set aggregates = [] -%}
    {%- for f in features if f['stage'] == 'agg' -%}{%- do aggregates.append(f) -%}{%- endfor -%}
    {%- set per_pass = [((aggregates | length) / passes) | round(0, 'ceil') | int, 1] | max -%}
    {#- (no aggregates only happens at parse time, when the specs are not expanded) -#}
    {{ return((aggregates | batch(per_pass) | list) or [[]]) }}
{%- endmacro %}

{#- One block of aggregates grouped by key: `select key, <aggregates> from relation group by key`. -#}
{% macro aggregate_pass_select(chunk, relation, key) -%}
    select
        {{ key }},
        {{ feature_select_list(chunk, 'agg') }}
    from {{ relation }}
    group by {{ key }}
{%- endmacro %}

{#- `select * from r1 inner join r2 using (key) …`: passes that group the same rows by the same
    key hold the same keys, so they join 1:1. -#}
{% macro join_passes(relations, key='sk_id_curr') -%}
    select *
    from {{ relations[0] }}
    {%- for relation in relations[1:] %}
    inner join {{ relation }} using ({{ key }})
    {%- endfor %}
{%- endmacro %}

{#- The 'agg' features of `relation` grouped by `key`, as CTEs <cte>_pass_1..k joined into
    <cte>: one GROUP BY per block of at most `max_per_pass` aggregates. Why not one pass: DuckDB
    keeps every aggregate state of a group in one hash-table row, and with ~250 aggregates the
    rows get so wide that updates thrash the cache; on previous_application at full scale (~250
    aggregates) two passes over a materialised input took ~30 % less CPU than one wide pass.
    Every pass groups the same rows by the same key, so the passes hold the same keys and join
    1:1. More than one pass reads `relation` more than once: make it cheap or MATERIALIZED.
    The passes of one query are alive together; to bound memory, see aggregation_pass_model. -#}
{% macro aggregate_in_passes(features, relation, key='sk_id_curr', cte='aggregated', max_per_pass=128) -%}
    {%- set count = feature_names(features, 'agg') | length -%}
    {%- set passes = [(count / max_per_pass) | round(0, 'ceil') | int, 1] | max -%}
    {%- set names = [] -%}
    {%- for chunk in aggregate_chunks(features, passes) %}
    {%- do names.append(cte ~ '_pass_' ~ loop.index) %}
{{ cte }}_pass_{{ loop.index }} as (
    {{ aggregate_pass_select(chunk, relation, key) }}
),
{% endfor %}
{{ cte }} as (
    {{ join_passes(names, key) }}
)
{%- endmacro %}

{#- Pass `pass_number` of `passes` as a model's select (a model body, or a CTE): a hash
    aggregate keeps all its states in memory (DuckDB does not spill the wide states of ~250
    aggregates per client: the full-scale previous-applications aggregation ran out of memory
    at 2.4 GB in one query, whatever the split into CTE passes), so the widest aggregations are
    split into blocks of ~128 aggregates, one query each: the first blocks are tables of their
    own, the last is aggregated by the model that joins them (join_passes), after them, so one
    block's states are in memory at a time however many models the marts build runs at once
    (PAD_MARTS_DBT_THREADS). -#}
{% macro aggregation_pass_model(features, relation, pass_number, passes, key='sk_id_curr') -%}
    {%- set chunks = aggregate_chunks(features, passes) -%}
    {%- if execute and chunks | length != passes -%}
        {{ exceptions.raise_compiler_error(passes ~ ' passes asked, ' ~ (chunks | length) ~ ' blocks of aggregates') }}
    {%- endif -%}
{{ aggregate_pass_select(chunks[pass_number - 1] if execute else [], relation, key) }}
{%- endmacro %}
