"""What a rule query may call: every function, aggregate, window and table function, by name.

An allowlist, not a denylist: DuckDB gains functions with every release, and a
name nobody thought to forbid (a new file reader, a settings view) must not
become reachable by a rule the day it ships. Names are DuckDB's, as its parser
reports them (`count(*)` is `count_star`, `INTERVAL (x) DAY` is `to_days`,
`EXTRACT` is `date_part`, `a || b` is `||`).

Left out on purpose: anything that reads or writes files (read_*, glob, COPY,
parquet_*), settings, variables and the catalog (current_setting, getvariable,
duckdb_*, pragma_*), serialised SQL (json_serialize_sql, json_execute_*),
logging and profiling, sequences, sleeping, functions that take another
function's name as a string (list_aggregate: it would step around the list),
and whatever depends on the clock or chance (now, today, random, uuid): a
finding must come out the same on every run.
"""

from __future__ import annotations

OPERATORS = frozenset(
    "+ - * / // % ** ^ || ~~ !~~ ~~* !~~* ~~~ & | << >> ~ ^@ ->> && @> <@".split()
    # functions the parser writes for syntax: `x[i]`, `x[a:b]`, `s.field`, `[..]`, `{..}`, LIKE ... ESCAPE
    + "array_extract array_slice struct_extract list_value struct_pack row".split()
    + "like_escape not_like_escape ilike_escape not_ilike_escape".split()
)

CONDITIONAL = frozenset("nullif if greatest least isnan isinf isfinite".split())

MATH = frozenset(
    """abs ceil ceiling floor round round_even trunc sign sqrt cbrt power pow exp ln log log10 log2 mod fmod pi
    radians degrees sin cos tan asin acos atan atan2 cot add subtract multiply divide fdiv gcd lcm""".split()
)

STRING = frozenset(
    """length len strlen char_length character_length lower upper lcase ucase trim ltrim rtrim substring substr
    left right concat concat_ws replace reverse lpad rpad position strpos instr contains starts_with ends_with
    prefix suffix split_part string_split str_split string_to_array split translate ascii chr unicode ord
    nfc_normalize strip_accents levenshtein editdist3 jaro_similarity jaro_winkler_similarity damerau_levenshtein
    hamming mismatches jaccard md5 sha1 sha256 hash format printf repeat array_to_string overlay""".split()
)

REGEXP = frozenset(
    """regexp_matches regexp_replace regexp_extract regexp_extract_all regexp_full_match regexp_split_to_array
    string_split_regex""".split()
)

DATE_TIME = frozenset(
    """date_part datepart date_diff datediff date_sub datesub date_trunc datetrunc date_add year month day hour
    minute second millisecond dayofweek dayofmonth isodow dayofyear week weekofyear weekday yearweek isoyear
    quarter epoch epoch_ms make_date make_time make_timestamp strftime strptime try_strptime to_timestamp
    last_day monthname dayname to_days to_hours to_minutes to_seconds to_months to_years to_weeks
    to_milliseconds to_microseconds time_bucket""".split()
)

LIST = frozenset(
    """list_pack array_value list_extract list_element list_slice list_contains list_has array_contains array_has
    list_position list_indexof array_position list_concat list_cat array_concat array_cat array_length
    list_distinct array_distinct list_unique list_sort array_sort list_reverse_sort list_filter array_filter
    filter list_transform array_transform apply list_apply list_reduce reduce list_sum list_min list_max list_avg list_count list_first list_last list_any_value
    list_has_any list_has_all array_has_any array_has_all flatten unnest generate_series range""".split()
)

JSON = frozenset(
    "json_extract json_extract_string json_valid json_array_length json_keys json_type json_object json_array to_json".split()
)

AGGREGATES = frozenset(
    """count count_star sum avg mean min max any_value first last arbitrary arg_min arg_max argmin argmax min_by
    max_by arg_min_null arg_max_null string_agg group_concat listagg list array_agg bool_and bool_or count_if
    countif median quantile quantile_cont quantile_disc mode stddev stddev_samp stddev_pop variance var_samp
    var_pop corr covar_pop covar_samp approx_count_distinct approx_quantile product fsum sumkahan kahan_sum favg
    entropy kurtosis skewness regr_slope regr_intercept regr_r2 regr_count geomean geometric_mean weighted_avg
    wavg""".split()
)

WINDOWS = frozenset(
    "row_number rank dense_rank rank_dense percent_rank cume_dist ntile lag lead first_value last_value nth_value".split()
)

# In FROM: rows from a list or a counter, nothing from outside the query.
TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series"})

# Anything written where an expression goes: scalar, aggregate, or window function.
FUNCTIONS = OPERATORS | CONDITIONAL | MATH | STRING | REGEXP | DATE_TIME | LIST | JSON | AGGREGATES | WINDOWS


def allowlist_markdown() -> str:
    """The list as docs/rules.md shows it (between its `allowlist` markers; a test keeps them equal)."""
    families = (
        ("operators and syntax", OPERATORS),
        ("conditional", CONDITIONAL),
        ("math", MATH),
        ("text", STRING),
        ("regular expressions", REGEXP),
        ("date and time", DATE_TIME),
        ("lists and structs", LIST),
        ("JSON", JSON),
        ("aggregates", AGGREGATES),
        ("window functions", WINDOWS),
        ("in FROM", TABLE_FUNCTIONS),
    )
    rows = ["| family | names |", "|---|---|"]
    # A pipe inside a table cell must be escaped, even inside backticks (GitHub's rule).
    rows += [
        f"| {family} | {' '.join('`' + n.replace('|', chr(92) + '|') + '`' for n in sorted(names))} |"
        for family, names in families
    ]
    return "\n".join(rows) + "\n"
