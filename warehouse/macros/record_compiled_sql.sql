{#- Post-hook of the models that define a client's application features
    (stg_homecredit__applications → int_applications_enriched → client_features): stores the
    model's compiled SQL in marts.feature_sql, so on-demand scoring (models_ml.feature_sql) runs
    exactly the SQL that built the mart on an edited application, without a second copy of the
    feature logic. Dollar quoting keeps the SQL verbatim. -#}
{% macro record_compiled_sql() -%}
create schema if not exists marts;
create table if not exists marts.feature_sql (model_name varchar primary key, compiled_sql varchar not null);
insert or replace into marts.feature_sql values ('{{ this.identifier }}', $pad_feature_sql${{ model.compiled_code }}$pad_feature_sql$)
{%- endmacro %}
