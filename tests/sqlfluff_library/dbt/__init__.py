"""dbt's cross-database macros for sqlfluff's jinja templater (`library_path` in .sqlfluff): each renders the
DuckDB SQL dbt-duckdb would, so the linter reads the models as a person does."""


def type_string():
    return "varchar"


def type_boolean():
    return "boolean"


def type_timestamp():
    return "timestamp"


def type_bigint():
    return "bigint"


def type_float():
    return "double"


def type_int():
    return "integer"


def cast(field, type):  # noqa: A002 - dbt's argument name
    return f"cast({field} as {type})"


def safe_cast(field, type):  # noqa: A002
    return f"try_cast({field} as {type})"


def concat(fields):
    return f"concat({', '.join(fields)})"


def dateadd(datepart, interval, from_date_or_timestamp):
    amount = interval if str(interval).strip() else "1"  # a var() the stubs cannot resolve
    return f"({from_date_or_timestamp} + to_{datepart.strip(chr(39))}s(cast({amount} as integer)))"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def replace(field, old_chars, new_chars):
    return f"replace({field}, {old_chars}, {new_chars})"


def split_part(string_text, delimiter_text, part_number):
    return f"split_part({string_text}, {delimiter_text}, {part_number})"
