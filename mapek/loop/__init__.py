"""The MAPE-K loop: monitor, analyse, plan, screen and execute as graph nodes, and the human
channel."""

__all__: list[str] = []
