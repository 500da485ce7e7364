"""Whatever Twilio (or anyone holding the token) posts, a webhook answers 200 with valid TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN

PATHS = [
    "/voice",
    "/voice/step/main_menu?attempt=1",
    "/voice/step/main_menu?attempt=x",
    "/voice/step/enter_order?attempt=2",
    "/voice/step/ask_question?attempt=1",
    "/voice/step/seller_fallback?attempt=9",
    "/voice/step/seller_thread?attempt=1",
    "/voice/step/warehouse_closed?attempt=1",
    "/voice/step/handoff/dialled",
    "/voice/whisper?call=CA1&step=handoff",
    "/voice/whisper/answer?call=CA1&step=handoff",
    "/voice/queue/wait?step=warehouse_queue",
    "/voice/queue/done?step=nope",
    "/voice/status",
    "/voice/fallback",
]
KEYS = [
    "CallSid",
    "From",
    "To",
    "Digits",
    "SpeechResult",
    "Confidence",
    "DialCallStatus",
    "QueueResult",
    "QueuePosition",
    "CallStatus",
    "ErrorCode",
    "ErrorUrl",
]
text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
forms = st.dictionaries(st.sampled_from(KEYS) | text, text, max_size=8)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(PATHS), form=forms, sid=st.sampled_from(["CA1", "CA2", ""]) | text)
def test_any_form_gets_200_and_parseable_twiml(
    client: FlaskClient, path: str, form: dict[str, str], sid: str
) -> None:
    form = {**form, "CallSid": sid} if "CallSid" not in form else form
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://localhost{path}", form)
    response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
