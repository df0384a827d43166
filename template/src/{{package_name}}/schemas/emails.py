"""Email addresses as pydantic's EmailStr validates them, at bulk speed.

EmailStr hands every address to email-validator, which checks the domain
character by character against the IDNA rules: about 50 us an address here,
so a bulk of 10,000 users spent half a second on it, ten times what COPY
takes to store them (measured in December 2026). In a bulk the same few
domains repeat. An address of the common shape (ASCII, an unquoted local
part) is checked here by the rules email-validator applies to that shape,
and its domain by email-validator itself, once per domain; every other
address, and every one the shortcut would refuse, goes to EmailStr's own
validation, so what is refused, and the message saying why, are EmailStr's.
tests/test_emails.py checks on generated addresses that the two agree.
"""

import re
from functools import lru_cache
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic.networks import validate_email as validate_email_str

# RFC 5322 dot-atom: atext characters in dot-separated runs, no leading,
# trailing or doubled dot; the local parts email-validator accepts unquoted.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
# Plain ASCII domain names; anything else (IDN, literals, spaces) takes the
# full validation.
_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
# email-validator's limit on the whole address, in octets; it leaves the local
# part's own limit (64) to its strict mode.
MAX_ADDRESS = 254


@lru_cache(maxsize=4096)
def _accepted_domain(domain: str) -> str | None:
    """The domain as email-validator normalises it, or None if it refuses it
    (or would not return it as plain ASCII): then the caller validates the whole
    address the slow way, for EmailStr's exact error."""
    try:
        parts = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return parts.domain if parts.domain == parts.ascii_domain else None


def validate_address(value: str) -> str:
    if value.isascii():
        local, at, domain = value.rpartition("@")
        if at and _DOT_ATOM.fullmatch(local) and _PLAIN_DOMAIN.fullmatch(domain):
            accepted = _accepted_domain(domain)
            if accepted is not None and len(local) + 1 + len(accepted) <= MAX_ADDRESS:
                return f"{local}@{accepted}"
    return validate_email_str(value)[1]


# Emails compare case-insensitively in practice; store one spelling so the unique
# index catches "Ann@x.io" vs "ann@x.io".
# email-validator also refuses the special-use domains of RFC 6761 (.test,
# .invalid, .local, ...); the description tells clients, as `format` cannot.
Email = Annotated[
    str,
    AfterValidator(validate_address),
    AfterValidator(str.lower),
    Field(
        description="An address; special-use domains (.test, .local) are refused",
        json_schema_extra={"format": "email"},
    ),
]
