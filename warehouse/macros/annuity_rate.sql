{#- Reconstructing the interest rate of an annuity loan from its annuity A, principal P and
    term n (months): the monthly rate r solves  A = P * r / (1 - (1 + r)^-n).

    Newton's method on F(r) = r / (1 - (1 + r)^-n) - A / P, with
        F'(r) = ((1 - v) - n * r * v / (1 + r)) / (1 - v)^2,   v = (1 + r)^-n.
    Seed: the first-order expansion A / P ~ 1/n + r (n + 1) / (2n) gives
        r0 = 2 (A n / P - 1) / (n + 1).
    The annuity payment r / (1 - (1 + r)^-n) is convex and increasing in r, so its tangent at 0
    lies below it: r0 is never below the root, and Newton from the right of the root of a convex
    increasing function converges monotonically without overshooting. Checked numerically for
    n = 1..84 and monthly rates 1e-4..0.5: 5 steps reach a relative error < 1e-9; we take 6.
    A n <= P (1 + 1e-6) is an interest-free loan: r = 0 (below that excess the derivative loses
    precision and the rate is negligible anyway). Missing or non-positive A, P or n: null.

    One CTE per step (each step references r three times; nesting the steps in one expression
    would grow it exponentially). Emits CTEs named <name>_0 .. <name>_<steps>, each being the
    input relation plus the column monthly_rate; select from <name>_<steps>. -#}
{% macro annuity_rate_ctes(name, relation, annuity, principal, term, steps=6) -%}
{{ name }}_0 as (
    select
        *,
        case
            when not ({{ annuity }} > 0 and {{ principal }} > 0 and {{ term }} > 0) then null
            when {{ annuity }} * {{ term }} <= {{ principal }} * (1 + 1e-6) then 0.0
            else 2.0 * ({{ annuity }} * {{ term }} / {{ principal }} - 1) / ({{ term }} + 1)
        end as monthly_rate
    from {{ relation }}
),
{%- for step in range(1, steps + 1) %}

{{ name }}_{{ step }} as (
    -- Newton step {{ step }}; the discount factor v = (1 + r)^-n computed once per step
    select
        * exclude (discount) replace (
            case
                when monthly_rate > 0 then
                    monthly_rate - (monthly_rate / (1 - discount) - {{ annuity }} / {{ principal }})
                    / (((1 - discount) - {{ term }} * monthly_rate * discount / (1 + monthly_rate)) / ((1 - discount) * (1 - discount)))
                else monthly_rate
            end as monthly_rate
        )
    from (
        select *, pow(1 + monthly_rate, -{{ term }}) as discount from {{ name }}_{{ step - 1 }}
    )
){{ ',' if not loop.last }}
{%- endfor %}
{%- endmacro %}

{#- max(x, 0) that keeps null (DuckDB's greatest() ignores nulls: greatest(null, 0) = 0). -#}
{% macro clip_lower(expr, bound=0) -%}
    case when {{ expr }} is null then null when {{ expr }} < {{ bound }} then {{ bound }} else {{ expr }} end
{%- endmacro %}
