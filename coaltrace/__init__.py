"""coaltrace: trace every tonne of coal back to a licensed mine."""

__version__ = "0.1.0"
