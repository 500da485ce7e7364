// The agents' console: keeps the agent's state, the queue and today's queue figures fresh by
// polling the JSON API (and the figures panel the server renders) every two seconds, and sends the
// buttons' clicks to it. Every request carries the session cookie; every POST the session's CSRF
// token in a header. Text is set with textContent only, but for that server-rendered panel.
"use strict";

(function () {
  const POLL_MS = 2000;
  const root = document.getElementById("console");
  if (!root) return;
  const agent = root.dataset.agent;
  const base = root.dataset.api; // the API's path, behind any prefix a proxy adds
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const csrf = { header: meta("csrf-header"), token: meta("csrf-token") };
  const announce = document.getElementById("announce");
  let myCall = null;

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers[csrf.header] = csrf.token;
    }
    const response = await fetch(base + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      window.location.assign(root.dataset.login); // the session ended (signed out, token changed)
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = { error: `${response.status} ${response.statusText} (not JSON)` };
    }
    return { status: response.status, ok: response.ok, data };
  }

  function say(text) {
    announce.textContent = text;
  }

  function answerText(what, answer) {
    if (answer.ok) return `${what}: done (${JSON.stringify(answer.data)})`;
    const why = (answer.data && answer.data.error) || JSON.stringify(answer.data);
    return `${what}: refused, ${answer.status}: ${why}`;
  }

  // As figures_panel.duration_text: minutes and seconds, from an hour on hours and minutes.
  function duration(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
    return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
  }

  // Today's figures: the server renders the panel (figures_panel.html, autoescaped) and it is
  // swapped in whole, only when it changed (a reader's place in the tables is kept between
  // polls; nothing in it takes focus), or when the page's copy was changed since.
  const figures = document.getElementById("figures");
  let figuresFetched = null;
  let figuresShown = null;
  async function refreshFigures() {
    const response = await fetch(figures.dataset.refresh, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    if (response.status === 401) window.location.assign(root.dataset.login);
    if (!response.ok) return;
    const html = await response.text();
    if (html === figuresFetched && figures.innerHTML === figuresShown) return;
    const parsed = document.createElement("template");
    parsed.innerHTML = html;
    figures.replaceChildren(parsed.content);
    figuresFetched = html;
    figuresShown = figures.innerHTML;
  }

  // A warm transfer's outcome, as the agent reads it: "<seller> <words>: the caller is back
  // with you" (the hotline took the caller off hold).
  const GAVE_BACK = {
    declined: "declined",
    busy: "is busy",
    "no-answer": "did not answer",
    outside_hours: "is outside their hours",
    failed: "could not be rung",
  };
  const completed = new Set(); // warm transfers this page brought the caller into

  function showTransfer(made) {
    const box = document.getElementById("warm");
    const status = document.getElementById("warm-status");
    const choice = document.getElementById("warm-choice");
    if (!made || made.kind !== "warm") {
      box.hidden = true;
      return;
    }
    const name = made.target_name || made.target;
    let text = `Warm transfer to ${name}: ${made.outcome}.`;
    let choosing = false;
    if (made.outcome === "pending") {
      text = `Ringing ${name}: the caller is on hold.`;
    } else if (made.outcome === "accepted" && completed.has(made.id)) {
      text = `${name} and the caller are on the call.`;
    } else if (made.outcome === "accepted") {
      text = `${name} took the call: you are talking with them, the caller is on hold.`;
      choosing = true;
    } else if (made.outcome in GAVE_BACK) {
      text = `${name} ${GAVE_BACK[made.outcome]}: the caller is back with you.`;
    } else if (made.outcome === "caller_hung_up") {
      text = `The caller hung up while on hold.`;
    }
    box.hidden = false;
    status.textContent = text;
    choice.hidden = !choosing;
    choice.dataset.transfer = String(made.id);
  }

  function showState(agentView) {
    const state = document.getElementById("state");
    state.dataset.state = agentView.state;
    state.textContent = agentView.state.replace("_", " ");
    myCall = agentView.call;
    document.getElementById("state-call").textContent = myCall ? ` (call ${myCall})` : "";
    document.getElementById("my-call").hidden = !myCall;
    if ("transfer" in agentView) showTransfer(myCall ? agentView.transfer : null);
  }

  function fill(card, caller, position) {
    const field = (name) => card.querySelector(`[data-field="${name}"]`);
    card.dataset.call = caller.call;
    const heading = card.querySelector("h3");
    heading.id = `caller-${caller.call}`;
    field("position").textContent = String(position);
    field("topic").textContent = caller.topic_words || caller.topic || "no topic";
    field("sub_topic").textContent = caller.sub_topic
      ? `: ${caller.sub_topic_words || caller.sub_topic}`
      : "";
    field("status").textContent = caller.ringing_agent ? `ringing ${caller.ringing_agent}` : "";
    field("waiting").textContent = duration(caller.waiting_seconds);
    field("from_number").textContent = caller.from_number || "unknown";
    field("order").textContent = caller.order || "—";
    field("seller").textContent = caller.seller_name
      ? `${caller.seller_name} (${caller.seller})`
      : caller.seller || "—";
    field("question").textContent = caller.question || "—";
    field("transferred").textContent = caller.transferred
      ? `yes: ${caller.last_summary || "no summary"}`
      : "no";
    const threads = field("threads");
    threads.replaceChildren();
    const list = caller.earlier_threads.length ? caller.earlier_threads : [null];
    for (const t of list) {
      const item = document.createElement("li");
      item.textContent = t ? `${t.reference} (${t.topic || "no topic"}, ${t.party}, ${t.status}, opened ${t.created_at.slice(0, 10)})` : "none";
      threads.append(item);
    }
    const take = card.querySelector("button.take-this");
    take.dataset.call = caller.call;
    take.setAttribute("aria-describedby", heading.id);
  }

  function showQueue(callers) {
    const list = document.getElementById("callers");
    const template = document.getElementById("caller-template");
    const cards = new Map([...list.children].map((card) => [card.dataset.call, card]));
    // Cards are kept (and refilled) by call, so a focused button keeps its focus across polls.
    const wanted = callers.map((caller, i) => {
      let card = cards.get(caller.call);
      if (!card) card = template.content.firstElementChild.cloneNode(true);
      fill(card, caller, i + 1);
      return card;
    });
    for (const [call, card] of cards) {
      if (!callers.some((c) => c.call === call)) card.remove();
    }
    wanted.forEach((card, i) => {
      if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
    });
    document.getElementById("queue-count").textContent = String(callers.length);
    document.getElementById("queue-empty").hidden = callers.length > 0;
  }

  async function poll() {
    try {
      const [me, queue] = await Promise.all([
        api("GET", `/agents/${encodeURIComponent(agent)}`),
        api("GET", "/queue"),
        refreshFigures(), // today, in the operator's timezone
      ]);
      if (me.ok) showState(me.data);
      if (queue.ok) showQueue(queue.data.callers);
    } catch (error) {
      say(`Cannot reach the server (${error}); trying again.`);
    } finally {
      window.setTimeout(poll, POLL_MS);
    }
  }

  async function setState(state, label) {
    const answer = await api("POST", `/agents/${encodeURIComponent(agent)}/state`, { state });
    if (answer.data && answer.data.agent) showState(answer.data.agent);
    say(answer.ok ? `${label}: you are ${answer.data.agent.state.replace("_", " ")}.` : answerText(label, answer));
  }

  async function take(call) {
    const body = call ? { call } : {};
    const answer = await api("POST", `/agents/${encodeURIComponent(agent)}/take`, body);
    say(answerText(call ? `Take caller ${call}` : "Take next", answer));
  }

  for (const form of document.querySelectorAll("form.state-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      setState(button.dataset.state, button.textContent.trim());
    });
  }
  document.getElementById("take-next").addEventListener("click", () => take(null));
  document.getElementById("callers").addEventListener("click", (event) => {
    const button = event.target.closest("button.take-this");
    if (button) take(button.dataset.call);
  });
  document.getElementById("transfer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!myCall) return say("Transfer: you have no call to transfer.");
    const form = event.target;
    const body = { kind: form.kind.value, to: form.to.value.trim(), summary: form.summary.value.trim() };
    const answer = await api("POST", `/calls/${encodeURIComponent(myCall)}/transfer`, body);
    say(answerText(`Transfer (${body.kind})`, answer));
  });
  document.getElementById("warm-choice").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !myCall) return;
    const choice = document.getElementById("warm-choice");
    const body = { action: button.dataset.action };
    const answer = await api("POST", `/calls/${encodeURIComponent(myCall)}/transfer/complete`, body);
    if (answer.ok) {
      completed.add(Number(choice.dataset.transfer));
      choice.hidden = true;
    }
    say(answerText(button.textContent.trim(), answer));
  });
  window.setTimeout(poll, POLL_MS);
})();
