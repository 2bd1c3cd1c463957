with source as (
    {{ raw_table('coverage', {
        'run_id': 'text', 'resource': 'text', 'tenant': 'text', 'status': 'text', 'reason': 'text',
        'rows': 'int', 'pages': 'int', 'requests': 'int', 'retries': 'int', 'throttled': 'int',
        'started_at': 'ts', 'duration_s': 'float', 'snapshot_as_of': 'ts'
    }, committed_only=true) }}
),

renamed as (
    select
        run_id,
        resource as resource_name,
        tenant,
        -- the tenant label is org_key/[site/]product/deployment (pipelines/atlassian_posture/connector/helpers.py Scope.label)
        {{ split_part('tenant', "'/'", 1) }} as org_key,
        case when {{ split_part('tenant', "'/'", 4) }} <> '' then {{ split_part('tenant', "'/'", 2) }} end as site_name,
        case when {{ split_part('tenant', "'/'", 4) }} <> '' then {{ split_part('tenant', "'/'", 3) }}
             else {{ split_part('tenant', "'/'", 2) }} end as product,
        case when {{ split_part('tenant', "'/'", 4) }} <> '' then {{ split_part('tenant', "'/'", 4) }}
             else {{ split_part('tenant', "'/'", 3) }} end as deployment,
        status,
        reason,
        "rows" as row_count,
        pages as page_count,
        requests as request_count,
        retries as retry_count,
        throttled as throttled_count,
        duration_s as duration_seconds,
        started_at,
        -- a change-driven run kept some items' rows: the server time of the full sweep they were read in
        snapshot_as_of
    from source
)

select * from renamed
