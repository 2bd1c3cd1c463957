{#- How much a failing posture check costs the posture score (DECISIONS.md "Posture score"). -#}
{% macro severity_weight(severity) -%}
    case {{ severity }}
        when 'critical' then 10
        when 'high' then 5
        when 'medium' then 2
        when 'low' then 1
        else 0
    end
{%- endmacro %}
