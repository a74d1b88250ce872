"""The identity-provider simulator: ID-name match and face liveness, by rules tests can drive.

- ID-name: an ID number that is not a valid resident ID (format, birth date, GB 11643 check
  character) → `{match: false, reason: id_number_invalid}`; a name containing "假" →
  `{match: false, reason: name_mismatch}`; otherwise `{match: true, reason: match}`.
- Liveness: an image whose bytes start with b"SPOOF" scores 0.05–0.29 and fails; any other
  image scores 0.85–0.99 (a function of its bytes) and passes; the threshold is 0.80. An
  empty image is refused (400 image_empty), one over 10 MB too (413 image_too_large).

    POST /id-name   {id_number, name} → {match, reason}
    POST /liveness  raw image bytes (application/octet-stream) → {passed, score}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

from xindai.integrations.simulators.core import SimError, SimState, provider_app
from xindai.integrations.simulators.people import id_number_valid, stable_int

LIVENESS_THRESHOLD = 0.80
SPOOF_MARKER = b"SPOOF"
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def id_name_check(id_number: str, name: str) -> dict[str, Any]:
    if not id_number_valid(id_number):
        return {"match": False, "reason": "id_number_invalid"}
    if "假" in name or not name.strip():
        return {"match": False, "reason": "name_mismatch"}
    return {"match": True, "reason": "match"}


def liveness_score(image: bytes) -> float:
    spread = stable_int(image.hex(), "liveness") % 15
    if image.startswith(SPOOF_MARKER):
        return round(0.05 + spread / 60, 2)
    return round(0.85 + spread / 100, 2)


class IdNameIn(BaseModel):
    id_number: str
    name: str


def create_identity_app(state: SimState) -> FastAPI:
    app = provider_app("identity", "Identity provider simulator / 实名认证模拟器", state)

    @app.post("/id-name")
    async def id_name(body: IdNameIn) -> dict[str, Any]:
        return id_name_check(body.id_number, body.name)

    @app.post("/liveness")
    async def liveness(request: Request) -> dict[str, Any]:
        image = await request.body()
        if not image:
            raise SimError(400, "image_empty", "the image is empty")
        if len(image) > MAX_IMAGE_BYTES:
            raise SimError(413, "image_too_large", "the image is over 10 MB")
        score = liveness_score(image)
        return {"passed": score >= LIVENESS_THRESHOLD, "score": score}

    return app
