{% macro psi(reference, current, bins=10, epsilon=0.0001) %}
{#-
    Population stability index per feature_name between two relations of
    (feature_name, value) rows: `reference` (the population the bins come from) and `current`.

    - Bins: the reference population's deciles (`bins` quantiles, quantile_disc so the cut points
      are observed values); repeated cut points collapse, so a feature with few distinct values
      gets fewer bins instead of empty ones. A value falls in bin k = number of cut points
      strictly below it (ASOF join: the greatest cut point < value). Missing values form their
      own bin (-1), so a change in the missing rate is drift too.
    - PSI = Σ (current share − reference share) · ln(current share / reference share) over the
      bins of either population; a bin empty on one side gets the share `epsilon` (1e-4) instead
      of 0, so one empty bin adds a large but finite term rather than infinity.
    - Usual reading: < 0.1 stable, 0.1–0.25 watch, > 0.25 act (macro psi_flag).
    Returns (feature_name, psi, reference_clients, current_clients).
-#}
(
    with
    ref as (select feature_name, value from {{ reference }}),
    cur as (select feature_name, value from {{ current }}),
    cuts as (
        select feature_name, cut, row_number() over (partition by feature_name order by cut) as bin
        from (
            select distinct feature_name,
                unnest(quantile_disc(value, [{% for i in range(1, bins) %}{{ i / bins }}{{ ", " if not loop.last }}{% endfor %}])) as cut
            from ref
            group by feature_name
        )
        where cut is not null
    ),
    observed as (
        select 'reference' as side, feature_name, value from ref
        union all
        select 'current' as side, feature_name, value from cur
    ),
    binned as (
        select o.side, o.feature_name,
            case when o.value is null then -1 else coalesce(c.bin, 0) end as bin
        from observed o
        asof left join cuts c on o.feature_name = c.feature_name and o.value > c.cut
    ),
    counts as (
        select feature_name, bin,
            count(*) filter (where side = 'reference') as ref_n,
            count(*) filter (where side = 'current') as cur_n
        from binned
        group by feature_name, bin
    ),
    shares as (
        select feature_name, bin,
            sum(ref_n) over (partition by feature_name) as reference_clients,
            sum(cur_n) over (partition by feature_name) as current_clients,
            greatest(ref_n / nullif(sum(ref_n) over (partition by feature_name), 0), {{ epsilon }}) as ref_share,
            greatest(cur_n / nullif(sum(cur_n) over (partition by feature_name), 0), {{ epsilon }}) as cur_share
        from counts
    )
    select feature_name,
        sum((cur_share - ref_share) * ln(cur_share / ref_share)) as psi,
        any_value(reference_clients)::bigint as reference_clients,
        any_value(current_clients)::bigint as current_clients
    from shares
    group by feature_name
    having any_value(reference_clients) > 0 and any_value(current_clients) > 0
)
{% endmacro %}


{% macro psi_flag(psi) %}
    case when {{ psi }} is null then null
         when {{ psi }} < 0.1 then 'stable'
         when {{ psi }} <= 0.25 then 'watch'
         else 'act' end
{% endmacro %}
