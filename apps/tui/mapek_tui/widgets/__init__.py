"""The app's widgets, one a module, each with its own CSS."""

from mapek_tui.widgets.banner import Banner
from mapek_tui.widgets.budget import BudgetPane
from mapek_tui.widgets.discussion import DiscussionPane
from mapek_tui.widgets.header import RunHeader
from mapek_tui.widgets.observer import ObserverPane
from mapek_tui.widgets.too_small import TooSmall

__all__ = ["Banner", "BudgetPane", "DiscussionPane", "ObserverPane", "RunHeader", "TooSmall"]
