{#- Fails on every combination of `combination_of_columns` that occurs more than once
    (a composite key; dbt's built-in `unique` takes one column). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
