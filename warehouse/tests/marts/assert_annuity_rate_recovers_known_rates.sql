{#- The Newton reconstruction (macros/annuity_rate.sql) recovers the monthly rate of annuities
    computed from known rates, terms 1-84 months and rates 0.1 %-30 % a month, to 1e-9
    relative; interest-free loans give 0 and invalid inputs null. Returns failing cases. -#}
with

grid as (
    select
        term,
        true_rate,
        100000.0 as principal,
        100000.0 * true_rate / (1 - pow(1 + true_rate, -term)) as annuity
    from unnest([1, 2, 3, 6, 10, 12, 18, 24, 36, 48, 60, 72, 84]) as terms(term)
    cross join unnest([0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.3]) as rates(true_rate)
),

edge_cases as (
    select * from (values
        (12, 0.0, 1200.0, 100.0),    -- interest-free: annuity * term = principal
        (12, null, 0.0, 100.0),      -- no principal
        (0, null, 1000.0, 100.0),    -- no term (refused applications)
        (12, null, 1000.0, null)     -- no annuity
    ) as edge_cases (term, true_rate, principal, annuity)
),

cases as (
    select * from grid
    union all by name
    select * from edge_cases
),

{{ annuity_rate_ctes('rate_newton', 'cases', 'annuity', 'principal', 'term') }}

select *
from rate_newton_6
where not (
    (true_rate is null and monthly_rate is null)
    or (true_rate = 0 and monthly_rate = 0)
    or abs(monthly_rate - true_rate) <= 1e-9 * true_rate
)
