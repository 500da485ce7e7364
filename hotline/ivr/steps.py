"""The kinds of flow step: how each one speaks (TwiML) and what it does with the caller's answer.

A ``Turn`` is one webhook's worth of work on one call: it enters steps (a branch or an order lookup
passes straight on to the next step in the same turn) until a step needs the caller, and renders
that into its ``Reply`` through what ``TurnBase`` (``turn.py``) offers: prompts, Say, Gather, URLs;
the callback offer's step lives in ``callback_steps.py``.
Decisions come from the pure modules (``branches``, ``routing``, ``handoff``, ``caller`` for the
option picked); the call's state lives in its store row, so the next webhook can be served by any
process.
"""

from __future__ import annotations

from hotline.config.settings import Order
from hotline.errors import FlowError
from hotline.ivr.branches import branch_holds
from hotline.ivr.callback_steps import CallbackSteps
from hotline.ivr.caller_input import Caller
from hotline.ivr.flow import Step
from hotline.ivr.wording import spell_digits
from hotline.messages.threads import open_thread, reference
from hotline.rules import handoff
from hotline.rules.routing import Party, Topic, party_for
from hotline.store import queue_entries, transfers
from hotline.store.queue_entries import CallerContext

MAX_PASS_THROUGH = 20  # steps entered in one turn; more means the flow loops on itself
MENU_TIMEOUT = 6
ORDER_TIMEOUT = 10
QUESTION_TIMEOUT = 5
THREAD_ASK_TRIES = 2


class Turn(CallbackSteps):
    """One webhook's work on one call: the steps it enters, the answers and results it handles."""

    # -- entering steps -------------------------------------------------------------------------

    def enter(self, name: str, attempt: int = 1, notice: str | None = None) -> None:
        """Speak step ``name`` (the ``attempt``-th time, after ``notice`` if given)."""
        if len(self.trail) >= MAX_PASS_THROUGH:
            raise FlowError(
                f"flow {self.flow.name}: more than {MAX_PASS_THROUGH} steps in one turn"
            )
        step = self.flow.step(name)
        self.trail.append(name if attempt == 1 else f"{name}#{attempt}")
        self.call.step = name
        if step.topic is not None:
            self.call.topic = step.topic.value
        enter = getattr(self, f"_enter_{step.kind}")
        enter(step, attempt, notice)

    def _enter_menu(self, step: Step, attempt: int, notice: str | None) -> None:
        lines = []
        if notice:
            lines.append(notice)
        if attempt == 1 and "intro" in step.prompts and notice is None:
            lines.append(self.prompt(step.prompts["intro"]))
        role = "short_prompt" if attempt > 1 and "short_prompt" in step.prompts else "prompt"
        lines.append(self.prompt(step.prompts[role]))
        self._gather(
            step,
            attempt,
            lines,
            input_="dtmf speech",
            timeout=MENU_TIMEOUT,
            num_digits=1,
            hints=self.hints(step),
        )

    def _enter_order_lookup(self, step: Step, attempt: int, notice: str | None) -> None:
        orders = self.directory.recent_orders(
            self.call.from_number, self.now, self.settings.recent_order_days
        )
        if len(orders) == 1:
            self._use_order(orders[0])
            self.enter(step.links["matched"])
        else:
            self.enter(step.links["unmatched"])

    def _enter_order_entry(self, step: Step, attempt: int, notice: str | None) -> None:
        lines = [notice] if notice else []
        lines.append(self.prompt(step.prompts["prompt"]))
        self._gather(
            step, attempt, lines, input_="dtmf speech", finish_on_key="#", timeout=ORDER_TIMEOUT
        )

    def _enter_question(self, step: Step, attempt: int, notice: str | None) -> None:
        self._gather(
            step,
            attempt,
            [self.prompt(step.prompts["prompt"])],
            input_="speech",
            timeout=QUESTION_TIMEOUT,
        )

    def _enter_branch(self, step: Step, attempt: int, notice: str | None) -> None:
        holds = branch_holds(
            step.test or "",
            hours=self.settings.hours,
            seller=self._seller(),
            question=self.call.question,
            now=self.now,
        )
        self.enter(step.links["yes" if holds else "no"])

    def _enter_dial_seller(self, step: Step, attempt: int, notice: str | None) -> None:
        seller = self._seller()
        if seller is None:
            self.enter(step.links["on_failure"])
            return
        self.say(self.prompt(step.prompts["connecting"]))
        dial = self.response.dial(
            action=self.url(f"/voice/step/{step.name}/dialled"),
            method="POST",
            timeout=self.settings.dial_timeout,
            caller_id=self.call.to_number or None,
        )
        dial.number(
            seller.phone,
            url=self.url("/voice/whisper", call=self.call.sid, step=step.name),
            method="POST",
        )

    def _enter_thread(self, step: Step, attempt: int, notice: str | None) -> None:
        if self.call.question:
            self._open_thread(step)
            return
        role = "retry" if attempt > 1 and "retry" in step.prompts else "ask"
        self._gather(
            step,
            attempt,
            [self.prompt(step.prompts[role])],
            input_="speech",
            timeout=QUESTION_TIMEOUT,
        )

    def _enter_enqueue(self, step: Step, attempt: int, notice: str | None) -> None:
        self.say(self.prompt(step.prompts["prompt"]))
        # The agents' view of the caller, written with this step's row (one transaction); a
        # retry of this webhook finds it there and writes nothing more.
        call = self.call
        context = CallerContext(
            from_number=call.from_number,
            language=call.language,
            topic=call.topic,
            order_id=call.order_id,
            seller_id=call.seller_id,
            question=call.question,
        )
        connection = self.store.session().connection()
        queue_entries.enter(connection, call.sid, self.settings.queue, context, self.now)
        self.response.enqueue(
            self.settings.queue,
            action=self.url("/voice/queue/done", step=step.name),
            method="POST",
            wait_url=self.url("/voice/queue/wait", step=step.name),
            wait_url_method="POST",
        )

    def _enter_hangup(self, step: Step, attempt: int, notice: str | None) -> None:
        self.say(self.prompt(step.prompts["prompt"]))
        self.response.hangup()

    # -- answers to a step ----------------------------------------------------------------------

    def answer(self, name: str, attempt: int, caller: Caller) -> None:
        """Handle what the caller gave at step ``name`` and enter whatever comes next."""
        step = self.flow.step(name)
        self.trail.append(f"{name}<{caller.describe(number=step.asks_for_a_number)}>")
        handler = getattr(self, f"_answer_{step.kind}", None)
        if handler is None:
            # A step that takes no input was posted to (stale URL): speak it again.
            self.enter(name)
            return
        handler(step, attempt, caller)

    def _answer_menu(self, step: Step, attempt: int, caller: Caller) -> None:
        if step.repeat_key and caller.digits == step.repeat_key:
            self.enter(step.name, attempt)
            return
        option = self.choose(step, caller)
        if option is None:
            self._retry(step, attempt)
            return
        if option.topic is not None:
            self.call.topic = option.topic.value
        self.enter(option.next)

    def _answer_order_entry(self, step: Step, attempt: int, caller: Caller) -> None:
        digits = "".join(ch for ch in (caller.digits or caller.speech) if ch.isdigit())
        order = self.directory.order(digits) if digits else None
        if order is not None:
            self._use_order(order)
            self.enter(step.links["next"])
            return
        notice = (
            self.prompt(step.prompts["unknown"], digits=spell_digits(digits)) if digits else None
        )
        self._retry(step, attempt, notice=notice)

    def _answer_question(self, step: Step, attempt: int, caller: Caller) -> None:
        if caller.speech:
            self.call.question = caller.speech
        self.enter(step.links["next"])

    def _answer_thread(self, step: Step, attempt: int, caller: Caller) -> None:
        if caller.speech:
            self.call.question = caller.speech
            self._open_thread(step)
        elif attempt < THREAD_ASK_TRIES:
            self.enter(step.name, attempt + 1)
        else:
            self.enter(step.links["next"])

    def dial_result(self, name: str, dial_status: str | None) -> None:
        """The seller's leg ended: go on to success or to the fallback."""
        step = self.flow.step(name)
        status = handoff.parse_dial_status(dial_status)
        self.call.dial_status = status.value
        self.trail.append(f"{name}<DialCallStatus={status.value}>")
        took = handoff.seller_took_call(status, self.call.seller_accepted)
        self.call.outcome = "seller_took_call" if took else None
        # A caller an agent transferred cold: the transfer's outcome is this handoff's.
        connection = self.store.session().connection()
        cold = transfers.pending_of(connection, self.call.sid, "cold")
        if cold is not None:
            answered = status in (handoff.DialStatus.COMPLETED, handoff.DialStatus.ANSWERED)
            outcome = "accepted" if took else "declined" if answered else status.value
            transfers.settle(connection, cold.id, outcome, self.now)
        self.enter(step.links["on_success" if took else "on_failure"])

    def queue_result(self, name: str | None, result: str) -> None:
        """The caller left the queue: bridged calls end, the rest hear goodbye.

        A caller moved out of the queue by Twilio's REST API hears nothing from here: Twilio
        ignores this answer and plays what the call was given. Nor does one an agent's
        ``<Dial><Queue>`` is still bridging (``bridging-in-process``): they are being connected.
        """
        self.call.queue_result = result
        self.trail.append(f"queue<QueueResult={result}>")
        queue_entries.leave(self.store.session().connection(), self.call.sid, result, self.now)
        if result in queue_entries.REDIRECTED or result == queue_entries.BRIDGING:
            return
        if result == "bridged":
            self.call.outcome = "agent_took_call"
        if result in ("bridged", "hangup") or name is None or name not in self.flow.steps:
            self.response.hangup()
            return
        self.enter(self.flow.step(name).links["next"])

    # -- shared pieces --------------------------------------------------------------------------

    def _retry(self, step: Step, attempt: int, notice: str | None = None) -> None:
        """Ask again (after ``notice``, else the step's short sorry), or give up after its tries."""
        tries = step.tries or self.settings.max_tries
        if attempt >= tries:
            self.enter(step.links["on_exhausted"])
            return
        if notice is None and "invalid" in step.prompts:
            notice = self.prompt(step.prompts["invalid"])
        self.enter(step.name, attempt + 1, notice=notice)

    def _open_thread(self, step: Step) -> None:
        topic = Topic(self.call.topic) if self.call.topic else Topic.AGENT
        # The step names its party (a seller's thread after a cold transfer of a warehouse
        # caller, say); a seller's thread needs the call's seller, else it is the warehouse's.
        party = step.party or party_for(topic)
        if party is Party.SELLER and self.call.seller_id is None:
            party = Party.WAREHOUSE
        routing = self.settings.routing
        thread = open_thread(
            self.store.session(),
            call_sid=self.call.sid,
            party=party,
            # The order's seller whoever answers: a warehouse thread counts for them too.
            seller_id=self.call.seller_id,
            order_id=self.call.order_id,
            topic=routing.topic_for_call(topic.value),
            buyer_phone=self.call.from_number,
            question=self.call.question or "",
            now=self.now,
            summary=call_summary(topic, self.call.order_id, self.call.dial_status),
            response_hours=routing.response_hours,
        )
        self.call.thread_id = thread.id
        self.call.outcome = "thread_opened"
        self.say(self.prompt(step.prompts["done"], reference=spell_digits(reference(thread.id))))
        self.enter(step.links["next"])

    def _use_order(self, order: Order) -> None:
        self.call.order_id = order.id
        self.call.seller_id = order.seller


def call_summary(topic: Topic, order_id: str | None, dial_status: str | None) -> str:
    """The system message of a thread opened from a call: what the call was about, and why."""
    parts = [f"Opened from a phone call about {topic.value.replace('_', ' ')}"]
    if order_id:
        parts.append(f"order {order_id}")
    if dial_status:
        parts.append(f"the seller's phone: {dial_status}")
    return "; ".join(parts) + "."
