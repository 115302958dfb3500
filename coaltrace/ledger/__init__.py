"""The problem ledger (问题台账): every problem found, from finding to closed item, signed, sampled and looked back on.

One module, one job, in the order a problem goes through them:

- `model`: items, statuses and the moves between them, sources, problem types, the eight checks;
- `schema`: the ledger's tables in the store, and the database id;
- `chain`: the history, appended and hashed in a chain, replayed into items, verified;
- `workflow`: what a person may do to an item and what each move needs; leads from other sources;
- `sync`: what an audit files in the ledger;
- `queries`: reading it, and its state for the report (`ledger_state`);
- `sampling` and `checklist`: the city's spot checks and their checklist;
- `lookback`: 回头看, closed items looked at again;
- `sheets`, `sheet_export` and `sheet_import`: the county sheet, its columns, written and read back.

See docs/ledger.md.
"""
