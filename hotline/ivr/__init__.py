"""The call flow: the flow model and its files, the steps, a webhook's turn, caller input, wording
and the TwiML replies."""
