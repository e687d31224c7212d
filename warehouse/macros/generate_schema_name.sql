{#- Schemas are exactly raw / staging / intermediate / marts / ml / serving (CONTRACTS §3):
    a folder's +schema is used as is instead of dbt's default `<target schema>_<custom>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
