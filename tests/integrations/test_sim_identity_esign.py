"""Identity (ID-name, liveness) and e-signature simulators through their adapters."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from xindai.integrations.errors import ProviderRejected
from xindai.integrations.http import HttpProviders
from xindai.integrations.ports import ESignature, IdentityProvider
from xindai.integrations.simulators.people import make_id_number

SECRET = "test-secret"  # the session simulator's, see conftest.py
PERSON = make_id_number("identity")


def test_id_name_rules(providers: HttpProviders) -> None:
    identity = providers.identity
    assert isinstance(identity, IdentityProvider)
    assert identity.verify_id_name(PERSON, "张三").match
    mismatch = identity.verify_id_name(PERSON, "假张三")
    assert (mismatch.match, mismatch.reason) == (False, "name_mismatch")
    invalid = identity.verify_id_name(PERSON[:-1] + ("0" if PERSON[-1] != "0" else "1"), "张三")
    assert (invalid.match, invalid.reason) == (False, "id_number_invalid")


def test_liveness_rules(providers: HttpProviders) -> None:
    live = providers.identity.liveness(b"\xff\xd8 a real selfie")
    assert live.passed and 0.85 <= live.score <= 0.99
    assert providers.identity.liveness(b"\xff\xd8 a real selfie") == live
    spoof = providers.identity.liveness(b"SPOOF printed photo")
    assert not spoof.passed and spoof.score < 0.8
    with pytest.raises(ProviderRejected) as info:
        providers.identity.liveness(b"")
    assert info.value.detail == "image_empty"


def test_sign_and_verify(providers: HttpProviders) -> None:
    esign = providers.esign
    assert isinstance(esign, ESignature)
    document = hashlib.sha256(b"loan contract v1").hexdigest()
    signature = esign.sign(document, "张三", PERSON)
    assert signature.signed_at.tzinfo is not None
    expected = hmac.new(
        SECRET.encode(),
        "|".join((document, "张三", PERSON, signature.signed_at.isoformat())).encode(),
        hashlib.sha256,
    ).hexdigest()
    assert signature.signature_hex == expected
    assert esign.verify(signature.signature_ref, document)
    assert not esign.verify(signature.signature_ref, hashlib.sha256(b"altered").hexdigest())
    assert not esign.verify("sig_unknown", document)


def test_signing_refuses_bad_input(providers: HttpProviders) -> None:
    with pytest.raises(ProviderRejected) as info:
        providers.esign.sign("not-a-hash", "张三", PERSON)
    assert info.value.detail == "document_sha256_invalid"
    with pytest.raises(ProviderRejected) as info:
        providers.esign.sign("a" * 64, "张三", "123")
    assert info.value.detail == "id_number_invalid"
