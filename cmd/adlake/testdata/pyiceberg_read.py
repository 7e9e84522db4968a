"""Reads every table of an adlake lakehouse with pyiceberg's SqlCatalog and
prints, as JSON, each table's row count and the Arrow type of a few columns.
Used by pyiceberg_test.go: another engine must read what adlake writes."""
import json
import sys

from pyiceberg.catalog.sql import SqlCatalog

root = sys.argv[1]
cat = SqlCatalog("adlake", uri=f"sqlite:///{root}/catalog.db", warehouse=f"file://{root}/warehouse")
out = {"rows": {}, "types": {}}
for ns in cat.list_namespaces():
    for ident in cat.list_tables(ns):
        name = ".".join(ident)
        arrow = cat.load_table(ident).scan().to_arrow()
        out["rows"][name] = arrow.num_rows
        for col in ("event_ts", "event_date", "is_bot", "cost_usd", "site"):
            if col in arrow.schema.names:
                out["types"][f"{name}.{col}"] = str(arrow.schema.field(col).type)
print(json.dumps(out, sort_keys=True))
