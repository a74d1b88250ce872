"""The e-signature simulator: signs the HMAC-SHA256, under the simulator's secret, of the
document hash, the signer and the signing time, and verifies a signature against a document.

    POST /signatures               {document_sha256, signer_name, signer_id_number}
                                   → {signature_ref, signed_at, signature_hex}
    POST /signatures/{ref}/verify  {document_sha256} → {valid}
    GET  /signatures/{ref}         the signature record (no document content is kept)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

from xindai.integrations.simulators.core import SimError, SimState, provider_app
from xindai.integrations.simulators.people import id_number_valid

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class SignatureRecord:
    signature_ref: str
    document_sha256: str
    signer_name: str
    signer_id_number: str
    signed_at: str
    signature_hex: str


def signature_hex(secret: str, document_sha256: str, name: str, id_number: str, at: str) -> str:
    message = "|".join((document_sha256, name, id_number, at)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class SignIn(BaseModel):
    document_sha256: str
    signer_name: str
    signer_id_number: str


class VerifyIn(BaseModel):
    document_sha256: str


def create_esign_app(state: SimState) -> FastAPI:
    app = provider_app("esign", "E-signature simulator / 电子签章模拟器", state)
    records: dict[str, SignatureRecord] = {}

    @app.post("/signatures")
    async def sign(body: SignIn, request: Request) -> Any:
        if (answer := state.replayed("esign", request)) is not None:
            return answer
        document = body.document_sha256.strip().lower()
        if not _SHA256_RE.match(document):
            raise SimError(400, "document_sha256_invalid", "must be 64 hex digits")
        if not body.signer_name.strip():
            raise SimError(400, "name_required", "the signer's name is empty")
        if not id_number_valid(body.signer_id_number):
            raise SimError(400, "id_number_invalid", "not a valid resident ID number")
        signed_at = state.clock.now().isoformat()
        record = SignatureRecord(
            signature_ref=state.new_id("sig"),
            document_sha256=document,
            signer_name=body.signer_name,
            signer_id_number=body.signer_id_number,
            signed_at=signed_at,
            signature_hex=signature_hex(
                state.config.secret, document, body.signer_name, body.signer_id_number, signed_at
            ),
        )
        records[record.signature_ref] = record
        answer = {
            "signature_ref": record.signature_ref,
            "signed_at": record.signed_at,
            "signature_hex": record.signature_hex,
        }
        return state.remember("esign", request, answer)

    @app.post("/signatures/{signature_ref}/verify")
    async def verify(signature_ref: str, body: VerifyIn) -> dict[str, bool]:
        record = records.get(signature_ref)
        if record is None:
            return {"valid": False}
        expected = signature_hex(
            state.config.secret,
            body.document_sha256.strip().lower(),
            record.signer_name,
            record.signer_id_number,
            record.signed_at,
        )
        return {"valid": hmac.compare_digest(expected, record.signature_hex)}

    @app.get("/signatures/{signature_ref}")
    async def show(signature_ref: str) -> dict[str, Any]:
        record = records.get(signature_ref)
        if record is None:
            raise SimError(404, "signature_unknown", f"no signature {signature_ref!r}")
        return asdict(record)

    return app
