"""The problem ledger (问题台账): every problem found, from finding to closed item, signed, sampled and looked back on."""
