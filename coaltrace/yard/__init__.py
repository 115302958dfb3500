"""The inspector's page of one facility: who supplies it, how much of its coal traces to a
licensed mine, what is open against it (`page`)."""

from coaltrace.yard.page import yard_page

__all__ = ["yard_page"]
