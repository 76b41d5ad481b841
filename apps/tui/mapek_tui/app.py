"""The terminal app: a live peer discussion you can watch, steer and stop.

The app is a front end like any other: it follows the run's log in a background thread
(:meth:`MapekApp.follow`, which posts :class:`EventsArrived` batches, and the turns being
spoken, :class:`PartialsChanged`, from the run's ``partial/`` folder) and writes the human's
answers, approvals, interjections and breaker overrides into the log through
:class:`mapek.api.Session` and :mod:`mapek.breaker.review`. It holds no state the log does not.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.worker import get_current_worker

from mapek.errors import MapekError
from mapek_tui.messages import EventsArrived, PartialsChanged, RunStatusChanged
from mapek_tui.state import PersonaStyle, RunView
from mapek_tui.widgets import (
    Banner,
    BudgetPane,
    DiscussionPane,
    ObserverPane,
    RunHeader,
    TooSmall,
)
from mapek_tui.widgets.footer import KeysFooter
from mapek_tui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH

__all__ = ["MapekApp"]

_ENDED = ("converged", "stalled", "max_turns")
"""Statuses of a run that finished its discussion (nothing to resume)."""
_RESUMABLE = ("stopped", "failed", "paused", "died", "tripped", "created")
_DIALOGS = frozenset({"answer", "approve", "interject", "next_speaker", "trip", "raise_limit"})
"""Actions that open a dialog from the main view (priority keys, see ``check_action``)."""
_STATUS_KINDS = frozenset({"worker.started", "run.finished", "run.stopped", "run.failed",
                           "run.paused", "breaker.tripped", "breaker.stopped"})


class MapekApp(App[int]):
    """``mapek tui``: the discussion, the observer, the budgets and the human's controls."""

    TITLE = "mapek"
    CSS = """
    #body { height: 1fr; }
    #discussion { width: 1fr; }
    #side { width: 40%; min-width: 34; max-width: 64; }
    MapekApp.-side-off #side { display: none; }
    MapekApp.-side-only #discussion { display: none; }
    MapekApp.-side-only #side { width: 1fr; max-width: 100%; }
    ObserverPane { height: 1fr; }
    MapekApp.-too-small #body { display: none; }
    MapekApp.-too-small Banner { display: none; }
    MapekApp.-too-small TooSmall { display: block; }
    """

    # The keys that open a dialog are priority bindings: the app runs them as the key arrives,
    # so what is typed right after lands in the dialog (see ``check_action`` and TypeAhead)
    # rather than in the pane that had the focus.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer", "answer", priority=True, tooltip="answer a question for you"),
        Binding("p", "approve", "approve", priority=True, tooltip="approve or deny the plan"),
        Binding("i", "interject", "interject", priority=True),
        Binding("n", "next_speaker", "next", priority=True,
                tooltip="pick the next speaker and what to ask them"),
        Binding("space", "pause", "pause", tooltip="pause or resume the worker"),
        Binding("t", "trip", "trip", priority=True, tooltip="trip the breaker by hand"),
        Binding("l", "raise_limit", "raise", priority=True,
                tooltip="raise a breaker limit and resume"),
        Binding("m", "postmortem", "report", tooltip="the post-mortem"),
        Binding("o", "outcome", "outcome", tooltip="the synthesis: decisions and dissent"),
        Binding("f", "filter", "filter", tooltip="show one persona's lines only"),
        Binding("s", "side", "side", tooltip="show or hide the budgets and observer"),
        Binding("c", "copy_run_id", "copy id", tooltip="copy the run id"),
        Binding("r", "resume", "resume", show=False),
        Binding("h", "history", "history"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    CHUNK = 400
    """Events per batch when reading a long history (each batch is drawn before the next)."""
    SIDE_EVERY = 0.12
    """Seconds between redraws of the gauges, observer and banner while events stream in (the
    discussion line of an event is drawn at once; redrawing the rest for every event would
    double the time to the screen)."""

    PARTIAL_EVERY = 0.05
    """Seconds between reads of the turns being spoken, while the run is live."""

    WIDE = 120
    """Columns from which the side panes sit beside the discussion (below: ``s`` switches
    between the discussion and the side panes, so the discussion keeps the width)."""

    status: reactive[str] = reactive("loading")
    reason: reactive[str] = reactive("")
    live: reactive[bool] = reactive(False)

    def __init__(self, session: Any | None = None, *, start: bool = False,
                 poll: float = 0.01, kb: Any | None = None,
                 clock: Any = time.time, export_dir: Path | None = None) -> None:
        """``session``: a :class:`mapek.api.Session` (None: open the history to pick a run);
        ``start``: start its worker on mount (a new session); ``poll``: seconds between reads
        of the log while the run is live; ``clock``: what "now" is for the time gauge (tests
        fix it so a screenshot does not depend on the wall clock); ``export_dir``: where
        the synthesis is exported (default: the current directory)."""
        super().__init__()
        self.session = session
        self.start_worker = start
        self.poll = poll
        self._kb = kb
        self.clock = clock
        self.export_dir = export_dir or Path.cwd()
        self.side: bool | None = None
        """The side panes shown (None: as the width decides)."""
        self._watched_live = start
        """The app has seen the run running: its synthesis opens when it comes."""
        self.view: RunView | None = None
        self._side_due = False
        self._drawn = threading.Event()
        self.shown_at: dict[int, float] | None = None
        """seq -> ``time.time()`` once drawn; set to a dict to measure (the benchmark)."""
        self.read_at: dict[int, float] = {}
        """seq -> ``time.time()`` when the follower read it (while measuring)."""
        self._committed: set[str] = set()
        """Event keys of the messages read: a turn in progress with one of them is in."""

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Kept by reference: the app's own ``query_one`` looks at the screen on top, which is
        # a dialog or the history while one is open, and events keep coming meanwhile.
        self.discussion = DiscussionPane(id="discussion")
        self.budget = BudgetPane(id="budget")
        self.observer = ObserverPane(id="observer")
        self.banner = Banner(id="banner")
        self.too_small = TooSmall(id="too-small")
        self.header = RunHeader(id="header")
        yield self.header
        yield self.banner
        with Horizontal(id="body"):
            yield self.discussion
            with Vertical(id="side"):
                yield self.budget
                yield self.observer
        yield self.too_small
        yield KeysFooter(compact=True)

    @property
    def current(self) -> Any:
        """The open session (the controls run only with one: ``_need_session``)."""
        assert self.session is not None, "no run is open"
        return self.session

    @property
    def kb(self) -> Any:
        if self.session is not None:
            return self.current.kb
        if self._kb is None:
            from mapek.config import Settings
            from mapek.knowledge import KnowledgeBase

            self._kb = KnowledgeBase.open(Settings().workspace(create=False),
                                          index_on_record=False)
        return self._kb

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        if self.session is None:
            self.sub_title = "no run open"
            self.action_history()
            return
        self._open(self.session)
        if self.start_worker:
            self.start_session()

    def _open(self, session: Any) -> None:
        """Show ``session``: a fresh view, the panes cleared, a follower on its log."""
        self.session = session
        self.view = self._make_view(session)
        self.discussion.clear()
        self._committed = set()
        self.title = "mapek"
        self.sub_title = f"run {session.run_id}"
        self.header.run_id = session.run_id
        self.header.gauges = ()
        self.discussion.persona = ""
        self.header.persona = ""
        self.status = "loading"
        self.follow()

    def _make_view(self, session: Any) -> RunView:
        from mapek.events import RunConfig

        personas: dict[str, PersonaStyle] = {}
        spec, own = None, None
        try:
            cfg = session.config
            own = RunConfig.model_validate(cfg.model_dump())
            from mapek.personas import PersonaLibrary

            lib = PersonaLibrary.load(cfg.personas_dir or session.settings.personas)
            personas = {n: PersonaStyle(p.color, p.role) for n, p in lib.personas.items()
                        if n in cfg.personas}
        except MapekError as exc:
            self.notify(f"personas: {exc}", severity="warning")
        try:
            from mapek.breaker.watchdog import resolve_spec

            spec = resolve_spec(session.kb, session.run_id)[0]
        except MapekError as exc:
            self.notify(f"breaker policy: {exc}", severity="warning")
        return RunView(session.run_id, personas, spec, session_config=own)

    def on_resize(self, event: Any) -> None:
        w, h = event.size.width, event.size.height
        self.set_class(w < MIN_WIDTH or h < MIN_HEIGHT, "-too-small")
        self.too_small.size_now = (w, h)
        self._layout(w)

    def _layout(self, width: int | None = None) -> None:
        """Wide: the side panes beside the discussion; narrow: one or the other (``s``)."""
        narrow = (width if width is not None else self.size.width) < self.WIDE
        side = self.side if self.side is not None else not narrow
        self.set_class(narrow, "-narrow")
        self.set_class(not side, "-side-off")
        self.set_class(narrow and side, "-side-only")
        footer = self.query_one(KeysFooter)
        footer.show_command_palette = not narrow
        footer.rows = 2 if narrow else 1

    # -- following the log -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def follow(self) -> None:
        """Read new events every ``poll`` seconds while the run is live (every 0.25 s while
        it is not, in case another front end resumes it) and post them to the app."""
        from mapek.partial import read_partials

        session = self.current
        worker = get_current_worker()
        run_dir = session.workspace.run_dir(session.run_id)
        last, state, check_at = 0, None, 0.0
        live = False
        partials: list[Any] = []
        partial_at = 0.0
        while not worker.is_cancelled:
            events = session.kb.events(session.run_id, after=last, limit=self.CHUNK)
            if events:
                last = events[-1].seq
                if len(events) == self.CHUNK:  # a long history: one chunk drawn at a time,
                    self._drawn.clear()            # so keys and redraws get in between
                    self.post_message(EventsArrived(events, time.time()))
                    self._drawn.wait(5.0)
                    continue
                self.post_message(EventsArrived(events, time.time()))
            now = time.monotonic()
            if now >= check_at or any(e.kind in _STATUS_KINDS for e in events):
                res = session.result()
                live = res.status == "running"
                if (res.status, res.reason, live) != state:
                    state = (res.status, res.reason, live)
                    self.post_message(RunStatusChanged(*state))
                check_at = now + (0.5 if live else 1.0)
            if now >= partial_at and (live or partials):  # the turns being spoken
                partial_at = now + self.PARTIAL_EVERY
                got = read_partials(run_dir) if live else []
                if got != partials:
                    partials = got
                    self.post_message(PartialsChanged(got))
            time.sleep(self.poll if live or events else 0.25)

    def on_events_arrived(self, msg: EventsArrived) -> None:
        if self.view is None:
            return
        view = self.view
        shown = view.apply_all(msg.events)
        self._committed.update(e.key for e in msg.events if e.kind == "message" and e.key)
        self.discussion.add_events(view, shown)
        self._close_settled(view)
        if self._watched_live and any(e.kind == "synthesis" for e in msg.events):
            self.call_after_refresh(self.action_outcome)  # the run ends on its outcome
        if view.topic:
            self.title = view.topic
        if not self._side_due:  # the side panes follow at most every SIDE_EVERY seconds
            self._side_due = True
            self.set_timer(self.SIDE_EVERY, self._refresh_side)
        self.call_after_refresh(self._drawn.set)
        if self.shown_at is not None:
            seqs = [e.seq for e in msg.events]
            self.read_at.update((s, msg.read_at) for s in seqs)
            self.call_after_refresh(self._mark_shown, seqs)

    def on_partials_changed(self, msg: PartialsChanged) -> None:
        """The turns being spoken, below the discussion's last line (a turn whose message the
        app has read is in, whatever the folder still says)."""
        from mapek.render import partial_text

        if self.view is None:
            return
        viewer = self.view.viewer
        self.discussion.set_live({p.persona: (p.key, partial_text(p.persona, p.text, viewer))
                                  for p in msg.partials if p.key not in self._committed})

    def _close_settled(self, view: RunView) -> None:
        """The open answer or approval dialog, once the log shows its question or calls settled
        by another front end (``mapek answer``, another app, a ``discuss`` window): closed,
        saying so; the person goes on."""
        from mapek_tui.screens.answer import AnswerScreen
        from mapek_tui.screens.approve import ApproveScreen

        top = self.screen
        if isinstance(top, AnswerScreen):
            q = view.questions.get(top.qid)
            if q is not None and q.status in ("answered", "deferred"):
                top.dismiss(None)
                self.notify(f"{top.qid} was {q.status} elsewhere"
                            + (f" (by {q.answered_by}, event #{q.answer_seq}): "
                               f"{(q.answer_text or '')[:120]}" if q.status == "answered"
                               else ""), timeout=8)
        elif isinstance(top, ApproveScreen):
            left = {r["call_id"] for r in view.pending_approvals()}
            if not any(r.get("call_id") in left for r in top.requests):
                top.dismiss(None)
                self.notify("the calls were decided elsewhere: "
                            + ", ".join(str(r.get("call_id")) for r in top.requests), timeout=8)

    def _mark_shown(self, seqs: list[int]) -> None:
        assert self.shown_at is not None
        now = time.time()
        for s in seqs:
            self.shown_at.setdefault(s, now)

    def on_run_status_changed(self, msg: RunStatusChanged) -> None:
        self.status, self.reason, self.live = msg.status, msg.reason, msg.live
        if msg.live:
            self._watched_live = True

    def watch_status(self, status: str) -> None:
        if self.session is not None:
            self.sub_title = f"run {self.current.run_id} · {status}"
        self.header.status = "" if status == "loading" else status
        self._refresh_banner()

    def watch_live(self, live: bool) -> None:
        if self.view is not None:
            self._refresh_side()  # the time gauge counts from the clock only while live

    def _tick(self) -> None:
        if self.live and self.view is not None and self.is_running:
            self.budget.gauges = tuple(self.view.gauges(self.clock()))
            self.header.gauges = self.budget.gauges

    def _refresh_side(self) -> None:
        self._side_due = False
        view = self.view
        if view is None:
            return
        budget = self.budget
        budget.gauges = tuple(view.gauges(self.clock() if self.live else None))
        self.header.gauges = budget.gauges
        budget.circuit = view.circuit()
        trip = view.trip
        budget.trip = f"{trip.policy}: {trip.reason}" if trip is not None else ""
        self.observer.show(view)
        self._refresh_banner()

    def _refresh_banner(self) -> None:
        banner = self.banner
        view = self.view
        msg, action, alarm = "", "", False
        if view is not None:
            questions, approvals = view.pending_questions(), view.pending_approvals()
            if self.status == "died":
                msg, action, alarm = ("the worker died without finishing; the run keeps its "
                                      "state", "resume", True)
            elif view.trip is not None or self.status == "tripped":
                t = view.trip
                msg, action, alarm = (f"⏻ breaker tripped ({t.policy if t else '?'}): "
                                      f"{t.reason if t else self.reason} · l raises a limit",
                                      "postmortem", True)
            elif approvals:
                msg, action = (f"{len(approvals)} call(s) of the plan wait for your approval"
                               + (f" · {len(questions)} question(s) for you (a)"
                                  if questions else ""), "approve")
            elif questions:
                msg, action = (f"{len(questions)} question(s) wait for you: "
                               + ", ".join(q.qid for q in questions), "answer")
            elif self.status in ("stopped", "failed", "paused"):
                msg, action = f"{self.status}: {self.reason}", "resume"
        banner.message, banner.action, banner.alarm = msg, action, alarm

    # -- the human's controls ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The dialog keys work on the main view only: over a dialog or the history they are
        letters typed into it."""
        if action in _DIALOGS and self.screen is not self.screen_stack[0]:
            return False
        return True

    def _need_session(self) -> bool:
        if self.session is None or self.view is None:
            self.notify("no run is open (h: history)", severity="warning")
            return False
        return True

    def _write(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` (a write to the log); a refusal is shown, not raised."""
        try:
            return fn(*args, **kwargs)
        except MapekError as exc:
            self.notify(f"{what}: {exc}", severity="error", timeout=8)
            return None

    def on_observer_pane_answer_requested(self, msg: ObserverPane.AnswerRequested) -> None:
        self.action_answer(msg.qid)

    def action_answer(self, qid: str | None = None) -> None:
        from mapek_tui.screens.answer import AnswerResult, AnswerScreen

        if not self._need_session():
            return
        view = self.view
        assert view is not None
        pending = view.pending_questions()
        if not pending:
            self.notify("no question waits for you")
            return
        q = next((x for x in pending if x.qid == qid), pending[0])
        ctx = view.context_for(q)
        shown = view.escalation_context.get(q.qid, {})

        def done(result: AnswerResult | None) -> None:
            if result is None:
                return
            if result.defer:
                ev = self._write("defer", self.current.defer, result.qid,
                                 result.text or "deferred in the terminal app")
            else:
                ev = self._write("answer", self.current.answer, result.qid, result.text)
            if ev is not None:
                self.notify(f"{'deferred' if result.defer else 'answered'} {result.qid} "
                            f"(event #{ev.seq})")

        self.push_screen(AnswerScreen(
            q.qid, shown.get("text") or q.text, q.asked_by, q.to or "anyone",
            q.reason or shown.get("reason") or "", (f"{ctx.actor} (#{ctx.seq}): "
                                                    f"{ctx.text}")
            if ctx is not None else "", f"({pending.index(q) + 1} of {len(pending)})"), done)

    def action_approve(self) -> None:
        from mapek_tui.screens.approve import ApproveScreen

        if not self._need_session():
            return
        view = self.view
        assert view is not None
        reqs = view.pending_approvals()
        if not reqs:
            self.notify("no call waits for your approval")
            return

        def done(decisions: dict[str, bool] | None) -> None:
            for cid, ok in (decisions or {}).items():
                ev = self._write("approve", self.current.approve, cid, ok,
                                 "decided in the terminal app")
                if ev is not None:
                    self.notify(f"{'approved' if ok else 'refused'} {cid} (event #{ev.seq})")

        self.push_screen(ApproveScreen(reqs, view.verdict_for(reqs[0])), done)

    def action_interject(self) -> None:
        from mapek_tui.screens.interject import Interjection, InterjectScreen

        if not self._need_session():
            return

        def done(result: Interjection | None) -> None:
            if result is not None:
                ev = self._write("interject", self.current.interject, result.text, result.to)
                if ev is not None:
                    self.notify(f"interjected (event #{ev.seq}, {len(result.text):,} chars)")

        assert self.view is not None
        self.push_screen(InterjectScreen(list(self.view.config.personas)), done)

    def _persona_styles(self) -> dict[str, PersonaStyle]:
        """The session's personas with their colours, for the dialogs that pick one."""
        view = self.view
        assert view is not None
        return {n: view.personas.get(n, PersonaStyle("white", "")) for n in view.config.personas}

    def action_next_speaker(self) -> None:
        from mapek_tui.screens.speaker import SpeakerChoice, SpeakerScreen

        if not self._need_session():
            return
        personas = self._persona_styles()

        def done(choice: SpeakerChoice | None) -> None:
            if choice is not None:
                text = choice.note or f"{choice.persona}, please take the floor next."
                ev = self._write("next speaker", self.current.interject, text, choice.persona)
                if ev is not None:
                    self.notify(f"{choice.persona} speaks next round (event #{ev.seq})")

        assert self.view is not None
        self.push_screen(SpeakerScreen(personas, self.view.positions), done)

    def action_pause(self) -> None:
        if not self._need_session():
            return
        if self.live:
            if not self.current.owns_worker:
                self.notify("this run's worker belongs to another front end: t trips it",
                            severity="warning")
                return
            self.notify("pausing: the worker stops at its next step (resumable)")
            self._stop_worker()
        else:
            self.action_resume()

    @work(thread=True, exclusive=True, group="stop")
    def _stop_worker(self) -> None:
        self.current.stop("paused by the human in the terminal app")

    def action_resume(self) -> None:
        if not self._need_session():
            return
        if self.live:
            self.notify("the run is already running")
            return
        if self.status in _ENDED:
            self.notify(f"the run has finished ({self.status}); nothing to resume")
            return
        self.start_session()

    def start_session(self) -> None:
        """Run (or resume) the session as ``Session.resume`` does it (after a trip: the
        half-open trial round first), in a daemon thread: it blocks until the run ends, and a
        human who quits the app leaves the worker running (a Textual thread worker would hold
        the process open until then). Questions and approvals are left in the log for the
        dialogs (:class:`LogChannel`); the follower shows the events."""

        from mapek_tui.channel import LogChannel

        session = self.current
        session.channel = LogChannel()

        def run() -> None:
            try:
                session.resume()
            except MapekError as exc:
                if self.is_running:
                    self.call_from_thread(self.notify, f"resume: {exc}", severity="error")

        self.notify("worker starting")
        threading.Thread(target=run, name="mapek-tui-resume", daemon=True).start()

    def action_trip(self) -> None:
        from mapek.breaker.review import record_override
        from mapek_tui.screens.override import TripScreen

        if not self._need_session():
            return
        if not self.live:
            self.notify("the run has no live worker to trip", severity="warning")
            return

        def done(reason: str | None) -> None:
            if reason:
                ev = self._write("trip", record_override, self.current.kb, self.current.run_id,
                                 force_open=True, reason=reason)
                if ev is not None:
                    self.notify(f"breaker forced open (event #{ev.seq}); the watchdog stops "
                                "the worker")

        self.push_screen(TripScreen(), done)

    def action_raise_limit(self) -> None:
        from mapek.breaker.policies import LIMIT_NAMES
        from mapek.breaker.review import record_override
        from mapek_tui.screens.override import RaiseRequest, RaiseScreen

        if not self._need_session():
            return
        view = self.view
        assert view is not None
        current = {}
        if view.fold is not None:
            for name, field in LIMIT_NAMES.items():
                v = view.fold.limit(field)
                current[name] = "none" if v is None else f"{v:g}"
        trip = view.trip
        policy = {"cost": "usd"}.get(trip.policy, trip.policy) if trip is not None else ""
        names = sorted(LIMIT_NAMES, key=lambda n: n != policy)

        def done(req: RaiseRequest | None) -> None:
            if req is None:
                return
            ev = self._write("raise", record_override, self.current.kb, self.current.run_id,
                             raise_limits=req.limits, reason=req.reason)
            if ev is not None:
                self.notify(f"override recorded (event #{ev.seq}): {ev.payload['text']}")
                if not self.live and self.status not in _ENDED:
                    self.start_session()

        self.push_screen(RaiseScreen(names, current, trip.reason if trip is not None else ""),
                         done)

    def action_postmortem(self) -> None:
        if self._need_session():
            self._postmortem()

    @work(thread=True, exclusive=True, group="postmortem")
    def _postmortem(self) -> None:
        from mapek.breaker.postmortem import build_report
        from mapek_tui.screens.text import PostmortemScreen

        try:
            md = build_report(self.current.kb, self.current.run_id).markdown()
        except MapekError as exc:
            self.call_from_thread(self.notify, f"post-mortem: {exc}", severity="error")
            return
        self.call_from_thread(self.push_screen, PostmortemScreen(md))

    def action_outcome(self) -> None:
        """The run's synthesis (decisions, recommendations, open questions, dissent)."""
        from mapek_tui.screens.synthesis import SynthesisScreen, synthesis_markdown

        if not self._need_session():
            return
        if isinstance(self.screen, SynthesisScreen):
            return
        md = synthesis_markdown(self.current.kb, self.current.run_id)
        if md is None:
            self.notify("no outcome yet: the synthesis comes when the discussion ends")
            return
        self.push_screen(SynthesisScreen(self.current.run_id, md, self.export_dir))

    def action_filter(self) -> None:
        from mapek_tui.screens.filter import FilterScreen

        if not self._need_session():
            return
        personas = self._persona_styles()

        def done(persona: str | None) -> None:
            if persona is not None:
                self.discussion.persona = persona
                self.header.persona = persona

        self.push_screen(FilterScreen(personas, self.discussion.persona), done)

    def action_side(self) -> None:
        """Show or hide the budgets and the observer (narrow: switch to them and back)."""
        narrow = self.size.width < self.WIDE
        shown = self.side if self.side is not None else not narrow
        self.side = not shown
        self._layout()

    def action_copy_run_id(self) -> None:
        if not self._need_session():
            return
        run_id = self.current.run_id
        self.copy_to_clipboard(run_id)
        self.notify(f"copied {run_id} · attach elsewhere: mapek tui --attach {run_id}")

    def action_history(self) -> None:
        from mapek_tui.screens.history import HistoryScreen

        def done(run_id: str | None) -> None:
            if run_id and (self.session is None or run_id != self.current.run_id):
                from mapek.api import Session

                home = self.current.workspace.root if self.session is not None else None
                try:
                    s = Session.attach(run_id, home=home)
                except MapekError as exc:
                    self.notify(str(exc), severity="error")
                    return
                self.workers.cancel_group(self, "follow")
                self._watched_live = False
                self._open(s)

        self.push_screen(HistoryScreen(self.kb, self.current.run_id if self.session else None),
                         done)

    def action_help(self) -> None:
        from mapek_tui.screens.answer import AnswerScreen
        from mapek_tui.screens.approve import ApproveScreen
        from mapek_tui.screens.history import HistoryScreen
        from mapek_tui.screens.interject import InterjectScreen
        from mapek_tui.screens.synthesis import SynthesisScreen
        from mapek_tui.screens.text import HelpScreen

        def keys(bindings: list[BindingType]) -> list[Binding]:
            return [b for b in bindings if isinstance(b, Binding)]

        groups = [("main view", keys(self.BINDINGS)),
                  ("answer dialog", [Binding("enter", "send", "send the answer"),
                                     *keys(AnswerScreen.BINDINGS)]),
                  ("approval dialog", keys(ApproveScreen.BINDINGS)),
                  ("interject dialog", keys(InterjectScreen.BINDINGS)),
                  ("history", keys(HistoryScreen.BINDINGS)),
                  ("outcome", keys(SynthesisScreen.BINDINGS)),
                  ("everywhere", [Binding("tab", "focus_next", "next pane"),
                                  Binding("ctrl+p", "command_palette", "command palette"),
                                  Binding("ctrl+q", "quit", "quit")])]
        self.push_screen(HelpScreen(groups))

    async def action_quit(self) -> None:
        self.workers.cancel_all()
        self.exit(0)
