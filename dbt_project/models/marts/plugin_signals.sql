-- One row per installed app and plugin-risk signal that fired, with its evidence and weight.
{{ fired_signals('PLUGIN-', 'app_key', 'plugin_signal_id') }}
