{#- The tier of a summed risk score (catalog §2/§3): critical >= 12, high 8-11, medium 4-7, low 1-3,
    none 0; a critical-severity signal lifts the tier to at least high. DECISIONS.md says why. -#}
{% macro risk_level(score, has_critical_signal) -%}
    case
        when {{ score }} >= 12 then 'critical'
        when {{ score }} >= 8 or {{ has_critical_signal }} = 1 then 'high'
        when {{ score }} >= 4 then 'medium'
        when {{ score }} >= 1 then 'low'
        else 'none'
    end
{%- endmacro %}
