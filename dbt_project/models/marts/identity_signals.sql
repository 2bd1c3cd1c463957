-- One row per account and identity-risk signal that fired, with its evidence and weight.
{{ fired_signals('IDENT-', 'account_key', 'identity_signal_id') }}
