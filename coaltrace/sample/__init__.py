"""A seeded, realistic sample month with planted violations and its ground truth."""

from coaltrace.sample.generate import SampleSummary, write_sample

__all__ = ["SampleSummary", "write_sample"]
