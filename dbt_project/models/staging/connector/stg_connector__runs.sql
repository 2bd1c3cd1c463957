with source as (
    {{ raw_table('runs', {
        'run_id': 'text', 'org_key': 'text', 'org_id': 'text', 'org_id_source': 'text',
        'started_at': 'ts', 'finished_at': 'ts', 'server_time': 'ts'
    }, committed_only=true) }}
),

renamed as (
    select
        run_id,
        org_key,
        org_id,
        org_id_source,
        server_time as server_clock_at,
        started_at,
        finished_at
    from source
)

select * from renamed
