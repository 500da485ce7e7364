"""Call scripts: reading them (typed values, source lines), playing the caller, checking."""
