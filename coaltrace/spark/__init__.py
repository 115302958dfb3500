"""The audit on Apache Spark: the session (`session`), the Parquet tables read and checked
(`inputs`), the audit itself (`audit`), the folder it writes (`output`) and that folder brought
into a local store (`load_findings`).

Only `session`, `inputs` and `audit` need pyspark, and import it inside their functions: every
module here imports without it, and `load_findings` works on a machine that has none.
"""
