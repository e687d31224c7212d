{#- Materialization `client_bucketed_table`: a table written by one statement per bucket of
    clients (sk_id_curr mod `client_buckets`, default 4), each reading every source relation
    of the model filtered to its bucket. Why: a join of the client-grain tables into a ~850-column
    row keeps the joins' hash tables and each writing thread's row group of ~850 columns in
    memory, which DuckDB cannot spill enough (client_features ran out of memory at 2.2 GB in one
    statement at full scale); a bucket needs about 1/n of it.
    Valid only for a model whose sources (staging, intermediate) all carry sk_id_curr and are
    joined on it: then filtering every source to a bucket equals filtering the result. The
    model's compiled SQL (what dbt shows, what record_compiled_sql stores) stays the plain query.
    The rest as the table materialization: built under a temporary name, renamed in one
    transaction, hooks and persisted docs. -#}
{% materialization client_bucketed_table, adapter='duckdb' %}
  {%- set buckets = config.get('client_buckets', 4) -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    create table {{ intermediate_relation }} as select * from ({{ compiled_code }}) limit 0
  {%- endcall %}
  {% for bucket in range(buckets) %}
    {% call statement('client_bucket_' ~ bucket) -%}
      insert into {{ intermediate_relation }}
      {{ sql_in_client_bucket(compiled_code, bucket, buckets) }}
    {%- endcall %}
  {% endfor %}

  {% if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- `sql` with every staging / intermediate relation read through a filter on one bucket of
    clients; raises when it finds none (the model would be written whole, once per bucket). -#}
{% macro sql_in_client_bucket(sql, bucket, buckets) -%}
    {%- set relation = '("[^"]*"\\."(?:staging|intermediate)"\\."[a-z0-9_]+")' -%}
    {%- set found = modules.re.findall(relation, sql) -%}
    {%- if not found -%}
        {{ exceptions.raise_compiler_error('client_bucketed_table: no staging or intermediate relation in ' ~ this) }}
    {%- endif -%}
    {#- a non-negative remainder: `%` keeps the sign, so a negative id would be in no bucket -#}
    {%- set remainder = '((sk_id_curr % ' ~ buckets ~ ') + ' ~ buckets ~ ') % ' ~ buckets -%}
    {{ modules.re.sub(relation, '(select * from \\1 where ' ~ remainder ~ ' = ' ~ bucket ~ ')', sql) }}
{%- endmacro %}
