"""Every key binding of the console, listed by the class that owns it, each with its ``id``.

The config file's ``[keymap]`` rebinds keys by these ids, so an id never changes, and
``console.keymap.binding_ids()`` reads this registry to refuse an id it does not know.
A class takes its list from here (``BINDINGS = bindings.FOR_ORDER_ENTRY``), so an id stays
known wherever the class moves.
"""

from __future__ import annotations

from textual.binding import Binding

FOR_APP = [
    Binding("ctrl+k", "kill_switch", "Kill", priority=True, id="risk.kill_switch"),
    Binding("t", "screen.chase_form", "Chase", priority=True, id="chase.new"),
    Binding("f1,question_mark", "help", "Help", priority=True, id="app.help"),
    Binding("q", "request_quit", "Quit", priority=True, id="app.quit"),
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_ctrl_c"),
    Binding("escape", "screen.leave", "Leave field", show=False, id="app.leave"),
    Binding("m", "screen.focus_markets", "Markets", show=False, priority=True, id="app.markets"),
    Binding("colon", "screen.command_bar", "Command", key_display=":", priority=True, id="app.command_bar"),
    Binding("ctrl+p", "command_palette", "Palette", show=False, priority=True, id="app.command_palette"),
    Binding("b", "screen.order_entry(False)", "Buy", priority=True, id="order.buy"),
    Binding("s", "screen.order_entry(True)", "Sell", priority=True, id="order.sell"),
    Binding("B", "screen.join_touch(False)", "Buy at bid", show=False, priority=True, id="order.buy_at_bid"),
    Binding("S", "screen.join_touch(True)", "Sell at ask", show=False, priority=True, id="order.sell_at_ask"),
    Binding("c", "screen.cancel_selected", "Cancel", priority=True, id="order.cancel"),
    Binding("z", "screen.cancel_newest", "Cancel newest", show=False, priority=True, id="order.cancel_newest"),
    Binding("f8,C", "screen.cancel_all", "Cancel all", priority=True, id="order.cancel_all"),
    Binding("x,f7", "screen.close_position", "Close pos.", priority=True, id="position.close"),
    Binding("A", "screen.rearm", "Re-arm", show=False, priority=True, id="risk.rearm"),
    Binding("1", "screen.tab('orders')", "Orders", show=False, priority=True, id="tabs.orders"),
    Binding("2", "screen.tab('positions')", "Positions", show=False, priority=True, id="tabs.positions"),
    Binding("3", "screen.tab('fills')", "Fills", show=False, priority=True, id="tabs.fills"),
    Binding("4", "screen.tab('chases')", "Working orders", show=False, priority=True, id="tabs.chases"),
    Binding("5", "screen.tab('log')", "Log", show=False, priority=True, id="tabs.log"),
    Binding("6", "screen.tab('triggers')", "Triggers", show=False, priority=True, id="tabs.triggers"),
    Binding("7", "screen.tab('alerts')", "Alerts", show=False, priority=True, id="tabs.alerts"),
    Binding("o", "screen.trigger_attach('stop')", "Attach stop", show=False, priority=True, id="trigger.attach_stop"),
    Binding("P", "screen.trigger_attach('tp')", "Attach take-profit", show=False, priority=True,
            id="trigger.attach_take_profit"),
    Binding("E", "screen.trigger_breakeven", "Stop to breakeven", show=False, priority=True, id="trigger.breakeven"),
    Binding("U", "screen.cross(False)", "Buy crossing at the ask", show=False, priority=True, id="order.cross_buy"),
    Binding("D", "screen.cross(True)", "Sell crossing at the bid", show=False, priority=True, id="order.cross_sell"),
    Binding("right_square_bracket", "screen.move_order('up')", "Order a tick up", show=False, priority=True,
            id="order.move_up"),
    Binding("left_square_bracket", "screen.move_order('down')", "Order a tick down", show=False, priority=True,
            id="order.move_down"),
    Binding("equals_sign", "screen.move_order('touch')", "Order to the touch", show=False, priority=True,
            id="order.move_to_touch"),
    Binding("V", "screen.close_part(25)", "Close 25%", show=False, priority=True, id="position.close_25"),
    Binding("X", "screen.close_part(50)", "Close 50%", show=False, priority=True, id="position.close_50"),
    Binding("R", "screen.reverse", "Reverse pos.", show=False, priority=True, id="position.reverse"),
]
"""The desk's keys, on ``PerpdeskApp`` rather than on ``MainScreen`` for two reasons Textual gives:
a dialog passes only the App's priority keys through (ctrl+k must open the kill switch over any
dialog, ctrl+c quit from one), and the footer lists a screen's keys before the App's, so a split
would reorder it.

They are priority keys so that Textual decides each one when it arrives, in order, against the focus
of that moment: a key that opens a field moves focus at once (``Screen.set_focus``), and the keys
after it in the same read are typed into the field (a text field consumes printable keys, so Textual
leaves them out of the binding chain).  Without priority, a key is matched only after it has
bubbled up from the widget that had focus when it arrived, so ``:2`` in one read switched tabs.
Over a dialog the ``screen.…`` actions find no method and fall through to the dialog's own keys;
``PerpdeskApp.check_action`` keeps ``q`` and help to the main screen.

Not ``+`` / ``-`` for the order moves: Textual names those keys ``plus`` / ``minus`` and cannot map the
names back to characters (``key_to_character``), so a text field would not hold them back from a
priority binding and a ``-`` typed in the command bar would move the order."""

FOR_MARKET_LIST = [
    Binding("up", "cursor(-1)", "Up", show=False, id="markets.up"),
    Binding("down", "cursor(1)", "Down", show=False, id="markets.down"),
    Binding("enter", "choose", "Switch market", id="markets.choose"),
]

FOR_ORDER_ENTRY = [
    Binding("f9", "submit", "Send", priority=True, id="order.submit"),
    Binding("enter", "submit", "Send", show=False, priority=True, id="order.submit_enter"),
    Binding("tab", "next_field(1)", "Next field", show=False, priority=True, id="order.next_field"),
    Binding("shift+tab", "next_field(-1)", "Previous field", show=False, priority=True, id="order.previous_field"),
    Binding("f2", "toggle_side", "Side", show=False, priority=True, id="order.toggle_side"),
    Binding("f3", "toggle_kind", "Lmt/Mkt", show=False, priority=True, id="order.toggle_kind"),
    Binding("f4", "toggle_unit", "Base/Quote", show=False, priority=True, id="order.toggle_unit"),
    Binding("f5", "toggle_flag('post-only')", "Post-only", show=False, priority=True, id="order.toggle_post_only"),
    Binding("f6", "toggle_flag('reduce-only')", "Reduce-only", show=False, priority=True, id="order.toggle_reduce_only"),
    Binding("escape", "screen.leave", "Leave", priority=True, id="order.leave"),
]
"""Enter, F9, Tab, Escape and F2–F6 are priority keys: focus has moved (to the next field, back to the
desk, to the size when F3 makes the order a market one) before the next key is taken.  F2–F6 stay out of
the footer (the form writes them itself), so an 80-column footer still has room for the kill switch."""

FOR_COMMAND_BAR = [
    Binding("enter", "run_line", "Run", show=False, priority=True, id="command.run"),
    Binding("tab", "take_suggestion", "Complete", show=False, id="command.complete"),
    Binding("escape", "close", "Close", priority=True, id="command.close"),
    Binding("up", "history(-1)", "Previous line", show=False, id="command.history_back"),
    Binding("down", "history(1)", "Next line", show=False, id="command.history_forward"),
]
"""Enter and Escape are priority keys: the bar closes and focus leaves at once, so the keys after
them in the same read are the desk's; the line itself is read after the keys typed before Enter."""

FOR_CHASES_TABLE = [
    Binding("p", "screen.chase_pause_resume", "Pause/resume", id="chases.pause_resume"),
    Binding("c", "screen.chase_cancel(False)", "Cancel chase", id="chases.cancel"),
    Binding("K", "screen.chase_cancel(True)", "Stop, keep order", id="chases.cancel_keep"),
    Binding("L", "screen.chase_move_limit", "Move limit", id="chases.move_limit"),
]
"""On the chases panel: they act on the selected chase; ``MainScreen.check_action`` stands the desk's
``c`` aside while the panel has focus."""

FOR_TRIGGERS_TABLE = [
    Binding("c", "screen.trigger_cancel", "Cancel trigger", id="triggers.cancel"),
    Binding("right_square_bracket", "screen.trigger_nudge(1)", "Trigger a tick up", id="triggers.tick_up"),
    Binding("left_square_bracket", "screen.trigger_nudge(-1)", "Trigger a tick down", id="triggers.tick_down"),
]
"""On the triggers panel: they act on the selected trigger; ``MainScreen.check_action`` stands the desk's
``c`` aside while the panel has focus."""

def _tab_moves_focus(owner: str) -> list[Binding]:
    """Tab and Shift+Tab as priority keys, for a form or dialog whose Enter is one: taken as they arrive,
    so the keys after a Tab in the same read go to the field it moved to (left to the focused field's
    queue, Tab moved focus only after they had been typed into the field it left), and Tab then Enter
    presses the button Tab moved to."""
    return [
        Binding("tab", "app.focus_next", "Next", show=False, priority=True, id=f"{owner}.next"),
        Binding("shift+tab", "app.focus_previous", "Previous", show=False, priority=True, id=f"{owner}.previous"),
    ]


FOR_CHASE_FORM = [
    Binding("f2", "toggle_side", "Side", id="chase.toggle_side"),
    Binding("f3", "cycle_end", "End action", id="chase.cycle_end"),
    Binding("f5", "toggle('post_only')", "Post-only", id="chase.toggle_post_only"),
    Binding("f6", "toggle('reduce_only')", "Reduce-only", id="chase.toggle_reduce_only"),
    Binding("f9", "submit", "Start", priority=True, id="chase.submit"),
    Binding("enter", "submit", "Start", show=False, priority=True, id="chase.submit_enter"),
    Binding("escape", "close", "Close", priority=True, id="chase.close"),
    *_tab_moves_focus("chase"),
]
"""Enter, F9, Tab and Escape are priority keys, as in the order form: the App takes them the moment they
arrive, so the keys typed after Enter wait (``console.key_gate``) instead of being typed into the field
being read, and those after Tab or Escape go to the next field or the desk."""

FOR_LIMIT_PRICE_FORM = [
    Binding("enter", "submit", "Apply", show=False, priority=True, id="chase_limit.apply"),
    Binding("escape", "close", "Close", id="chase_limit.close"),
]

FOR_CONFIRM = [
    Binding("y", "answer(True)", "Yes", priority=True, id="confirm.yes"),
    Binding("n", "answer(False)", "No", priority=True, id="confirm.no"),
    Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
]
"""``y`` and ``n`` are priority keys: answered as they arrive, the keys after them wait for the answer's
order (``console.key_gate``) rather than reaching a dialog about to close."""



FOR_DESTRUCTIVE = [
    Binding("escape,n", "answer(False)", "Stay", id="destructive.stay"),
    Binding("enter", "press", "Choose", show=False, priority=True, id="destructive.press"),
    *_tab_moves_focus("destructive"),
]
"""Cancel-all and close ask here; what confirms is the opening binding's function key again (not
rebindable apart from it) or Enter on the confirm button: never a letter.  Enter (on the focused button)
is a priority key, for the same reason as in ``FOR_CONFIRM``."""

FOR_KILL_SWITCH = [
    Binding("k", "choose('kill')", "Kill", id="kill.kill"),
    Binding("f", "choose('flatten')", "Kill + flatten", id="kill.flatten"),
    Binding("escape,n", "abort", "Abort", id="kill.abort"),
    Binding("enter", "press", "Choose", show=False, priority=True, id="kill.press"),
    *_tab_moves_focus("kill"),
]
"""Step 2 is confirmed by the kill switch's own key again (``risk.kill_switch``) or Enter on the button."""

FOR_ALGO_PREVIEW = [
    Binding("escape,n", "answer(False)", "Back", id="algo_preview.back"),
    Binding("enter", "press", "Choose", show=False, priority=True, id="algo_preview.press"),
    *_tab_moves_focus("algo_preview"),
]
"""A scale's or TWAP's preview: sent only by Enter on its Send button (focused first), never a letter;
Enter is a priority key, as in ``FOR_DESTRUCTIVE``."""

FOR_QUIT = [Binding("escape,n", "stay", "Stay", id="quit.stay")]
"""``q`` with live orders or chases asks; the choices are buttons (Tab, Enter), never a letter."""

FOR_HELP = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

FOR_REPLAY = [
    Binding("space", "replay_pause", "Pause/play", key_display="space", id="replay.pause"),
    Binding("full_stop", "replay_step", "Step", key_display=".", id="replay.step"),
    Binding("greater_than_sign", "replay_speed(2.0)", "Faster", key_display=">", priority=True, id="replay.faster"),
    Binding("less_than_sign", "replay_speed(0.5)", "Slower", key_display="<", priority=True, id="replay.slower"),
    Binding("8", "screen.tab('replay')", "Replay log", priority=True, id="replay.story"),
]
"""``perpdesk replay`` only (``console.replay_app.ReplayApp``): steer the playback; ``7`` shows the
Replay tab (the recorded chases' decisions, step by step)."""

REGISTRY: dict[str, list[Binding]] = {
    "app": FOR_APP,
    "market list": FOR_MARKET_LIST,
    "order entry": FOR_ORDER_ENTRY,
    "command bar": FOR_COMMAND_BAR,
    "chases table": FOR_CHASES_TABLE,
    "triggers table": FOR_TRIGGERS_TABLE,
    "chase form": FOR_CHASE_FORM,
    "limit price form": FOR_LIMIT_PRICE_FORM,
    "confirm dialog": FOR_CONFIRM,
    "destructive dialog": FOR_DESTRUCTIVE,
    "kill switch dialog": FOR_KILL_SWITCH,
    "quit dialog": FOR_QUIT,
    "working-order preview": FOR_ALGO_PREVIEW,
    "help": FOR_HELP,
    "replay": FOR_REPLAY,
}
"""Owner -> its bindings: every binding the console declares is in exactly one of these lists."""

FOOTER_FIRST = ("risk.kill_switch", "chase.new", "app.help")
"""The footer's most important hints, kept at any width that holds them: the kill switch, chase, help."""


def footer_rank(binding_id: str | None) -> int:
    """A hint's importance in the footer (lower: kept longer when the footer is too narrow for all):
    ``FOOTER_FIRST``, then the focused widget's and dialog's own keys, then the rest of the desk's
    keys in ``FOR_APP``'s order."""
    if binding_id in FOOTER_FIRST:
        return FOOTER_FIRST.index(binding_id)
    rank = _APP_RANK.get(binding_id or "")
    return len(FOOTER_FIRST) + (0 if rank is None else 1 + rank)


_APP_RANK = {binding.id: i for i, binding in enumerate(FOR_APP) if binding.id}
