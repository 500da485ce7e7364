"""``GET /api/agents/<id>/client-token``: the access token an agent's Voice SDK client
registers with, so it can receive the calls the hotline rings it with."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hotline.errors import ConfigError
from hotline.twilio_rest.client_tokens import DEFAULT_TTL, client_token
from hotline.web.agents_api import agent_for_actor
from hotline.web.security import require_agent_or_operator

bp = Blueprint("client_tokens_api", __name__, url_prefix="/api")


@bp.get("/agents/<agent_id>/client-token")
@require_agent_or_operator
def get_client_token(agent_id: str) -> Response | tuple[Response, int]:
    """The agent's own (or, for the operator, any agent's) client access token, for an hour."""
    agent = agent_for_actor(agent_id)
    if isinstance(agent, tuple):  # 403 for another agent's id, 404 for an unknown one
        return agent
    if agent.client is None:
        message = f"agent {agent.id} is rung on a phone, not a Voice SDK client: no token needed"
        return jsonify(error=message), 409
    try:
        token = client_token(agent.client)
    except ConfigError as exc:
        return jsonify(error=str(exc)), 503
    return jsonify(identity=agent.client, token=token, expires_in=DEFAULT_TTL)
