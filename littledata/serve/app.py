"""The HTTP API: a FastAPI app over a :class:`~littledata.serve.models.ModelSet`.

Endpoints (OpenAPI docs at ``/docs``):

- ``POST /v1/models/{name}/predict`` with ``{"texts": [...]}``: one model's labels and
  probabilities (a sentence-pair model takes ``{"pairs": [["text", "text pair"], ...]}``; a
  multi-label model answers a list of labels per text; a sequence tagger takes
  ``{"tokens": [["word", ...], ...]}`` and answers a tag per word);
- ``POST /v1/predict`` with ``{"texts": [...], "models": [...]}`` (or ``pairs``): several models
  (by default all that take what was sent); texts are encoded once per featurizer, whatever the
  number of heads on it;
- ``GET /v1/models``: the models with their classes, metrics and manifest;
- ``GET /healthz``: liveness, with each encoder's batching counts.

Every error is JSON, ``{"error": {"type": ..., "message": ...}}``, with a 4xx status for what a
client sent wrong (unknown model 404, malformed JSON 400, invalid body 422 (also texts for a
pair model, pairs for one that reads texts), too many texts or characters 413, a missing or
wrong bearer token 401). Encoding goes through one
:class:`~littledata.serve.batching.EncoderBatcher` per featurizer, so concurrent requests share
encoder calls.

This module imports FastAPI; nothing else in littledata imports it at import time.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from littledata.serve.batching import EncoderBatcher
from littledata.serve.models import ModelSet, ServedModel

__all__ = ["Limits", "create_app"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one request may hold (larger ones get 413).

    Attributes
    ----------
    max_texts : texts per request.
    max_chars : characters per request, all texts together.
    max_body_bytes : bytes of the request body (checked from its Content-Length first).
    """

    max_texts: int = 256
    max_chars: int = 200_000
    max_body_bytes: int = 4_000_000

    def __post_init__(self) -> None:
        from littledata.errors import ConfigError

        for name in ("max_texts", "max_chars", "max_body_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{name} ({flag}) must be 1 or more; got {value!r}")


class PredictRequest(BaseModel):
    """The texts to classify, or the pairs of texts for a sentence-pair model (one of the two)."""

    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] | None = Field(
        default=None, description="The texts, each a non-empty string."
    )
    pairs: list[tuple[StrictStr, StrictStr]] | None = Field(
        default=None,
        description="For sentence-pair models: the pairs, each [text, text_pair] of non-empty "
        "strings (a pair counts as two texts in the limits).",
    )
    tokens: list[list[StrictStr]] | None = Field(
        default=None,
        description="For sequence taggers: the sentences, each a list of non-empty words (a "
        "sentence counts as one text in the limits).",
    )


class MultiPredictRequest(PredictRequest):
    """The texts, and the models to run on them (all when left out)."""

    models: list[StrictStr] | None = Field(
        default=None, description="Model names (GET /v1/models); all models when left out."
    )


class Prediction(BaseModel):
    """One model's answer: a label per text (a list of labels for a multi-label model, a tag per
    word for a tagger), and each text's probability per class (per label; per word and tag)."""

    model: str
    task: str
    classes: list[Any]
    labels: list[Any]
    probabilities: list[list[float]] | list[list[list[float]]]


class MultiPrediction(BaseModel):
    """Each requested model's answer, in the order requested."""

    results: list[Prediction]


class ApiError(Exception):
    """A client error with its HTTP status and type."""

    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type, message


def _error(status: int, type: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"type": type, "message": message}})


def _validation_message(errors: list[dict[str, Any]]) -> tuple[int, str, str]:
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "")
        return 400, "malformed_json", f"The request body is not valid JSON: {reason}".strip()
    parts = []
    for e in errors[:5]:
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        where = loc[0] + "".join(f"[{p}]" for p in loc[1:]) if loc else "body"
        parts.append(f"{where}: {e.get('msg')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "invalid_request", "; ".join(parts) + more


def check_texts(texts: list[str], limits: Limits, *, field: str = "texts", per: int = 1) -> None:
    """Refuse an empty list, an empty text, too many texts or characters (:class:`ApiError`).

    ``texts`` are the request's ``field``, flattened ``per`` texts to an item (pairs: 2), so
    that an error names ``pairs[3][1]``.
    """
    if not texts:
        raise ApiError(422, "invalid_request", f"{field} is empty: send at least one")
    if len(texts) > limits.max_texts:
        items = (
            f"{len(texts) // per} pairs ({len(texts)} texts)" if per > 1 else f"{len(texts)} texts"
        )
        raise ApiError(
            413,
            "too_many_texts",
            f"{items} in one request; the limit is {limits.max_texts} texts. Send them in "
            "several requests.",
        )
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        where = [f"{field}[{i // per}]" + (f"[{i % per}]" if per > 1 else "") for i in empty]
        raise ApiError(
            422,
            "invalid_request",
            f"{', '.join(where[:10])} {'is' if len(empty) == 1 else 'are'} empty",
        )
    chars = sum(len(t) for t in texts)
    if chars > limits.max_chars:
        raise ApiError(
            413,
            "too_many_characters",
            f"{chars} characters in one request; the limit is {limits.max_chars}",
        )


def request_inputs(body: PredictRequest, limits: Limits) -> tuple[str, list[list[str]]]:
    """What the request sent (``"texts"``, ``"pairs"`` or ``"tokens"``) and its texts by side
    (one list; the first and second texts of the pairs; the sentences' word lists), checked
    against ``limits``."""
    sent = [f for f in ("texts", "pairs", "tokens") if getattr(body, f) is not None]
    if len(sent) != 1:
        raise ApiError(
            422,
            "invalid_request",
            "send one of texts (a list of texts), pairs (a list of [text, text_pair], for "
            "sentence-pair models) or tokens (a list of word lists, for taggers)"
            + (f", not both {sent[0]} and {sent[1]}" if len(sent) > 1 else ""),
        )
    if body.tokens is not None:
        check_sentences(body.tokens, limits)
        return "tokens", [[list(words) for words in body.tokens]]
    if body.texts is not None:
        check_texts(body.texts, limits)
        return "texts", [list(body.texts)]
    pairs = body.pairs or []
    check_texts([t for pair in pairs for t in pair], limits, field="pairs", per=2)
    return "pairs", [[a for a, _ in pairs], [b for _, b in pairs]]


def check_sentences(sentences: list[list[str]], limits: Limits) -> None:
    """Refuse no sentences, an empty sentence or word, too many sentences or characters."""
    if not sentences:
        raise ApiError(422, "invalid_request", "tokens is empty: send at least one sentence")
    if len(sentences) > limits.max_texts:
        raise ApiError(
            413,
            "too_many_texts",
            f"{len(sentences)} sentences in one request; the limit is {limits.max_texts}. Send "
            "them in several requests.",
        )
    for i, words in enumerate(sentences):
        if not words:
            raise ApiError(422, "invalid_request", f"tokens[{i}] has no words")
        empty = next((j for j, w in enumerate(words) if not w.strip()), None)
        if empty is not None:
            raise ApiError(422, "invalid_request", f"tokens[{i}][{empty}] is empty")
    chars = sum(len(w) for words in sentences for w in words)
    if chars > limits.max_chars:
        raise ApiError(
            413,
            "too_many_characters",
            f"{chars} characters in one request; the limit is {limits.max_chars}",
        )


_BODIES = {
    "texts": '{"texts": ["text", ...]}',
    "pairs": '{"pairs": [["text", "text pair"], ...]}',
    "tokens": '{"tokens": [["word", "word", ...], ...]}',
}


def check_input_kind(model: ServedModel, sent: str) -> None:
    """Refuse texts for a model of pairs, and pairs for a model of texts (422)."""
    if model.inputs != sent:
        wanted = _BODIES[model.inputs]
        raise ApiError(
            422,
            "wrong_input",
            f"model {model.name!r} ({model.task}) takes {model.inputs}, not {sent}: send {wanted}",
        )


def _answer(served: ServedModel, parts: list[Any], sides: list[Any]) -> dict[str, Any]:
    model = served.model
    proba = np.asarray(
        model.predict_proba_features(model.features_from_sides(parts)), dtype=np.float64
    )
    if served.inputs == "tokens":  # flat word rows: a list per sentence
        lengths = [len(words) for words in sides[0]]
        labels = model.tags_from_proba(proba, lengths)
        cuts = np.cumsum(lengths)[:-1]
        probabilities: list[Any] = [p.tolist() for p in np.split(proba, cuts)]
    else:
        labels, probabilities = model.labels_from_proba(proba), proba.tolist()
    return {
        "model": served.name,
        "task": served.task,
        "classes": served.classes,
        "labels": labels,
        "probabilities": probabilities,
    }


class Guard:
    """ASGI middleware in front of ``/v1``: the bearer token, the body size (from its
    Content-Length before reading; a body sent without one, in chunks, is counted as it arrives),
    and a body read as JSON whatever content type the client named (``curl -d`` says form). A
    plain ASGI class: FastAPI's ``@app.middleware`` wraps every request in more machinery than
    these checks need."""

    def __init__(self, app: Any, *, token: str | None, max_body_bytes: int) -> None:
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        refusal = self._refusal(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["method"] == "POST" and b"json" not in headers.get(b"content-type", b""):
            kept = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
            scope = {**scope, "headers": [*kept, (b"content-type", b"application/json")]}
        if scope["method"] == "POST" and b"content-length" not in headers:
            receive = await self._counted_body(scope, receive, send)
            if receive is None:
                return
        await self.app(scope, receive, send)

    async def _counted_body(self, scope: Any, receive: Any, send: Any) -> Any:
        """Read a body of unknown length whole, refusing it (413, and None) as soon as it passes
        the limit; else a ``receive`` that hands the app the body read."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                refusal = _error(
                    413,
                    "body_too_large",
                    f"The request body has more than {self.max_body_bytes} bytes, the limit",
                )
                await refusal(scope, receive, send)
                return None
            if not message.get("more_body", False):
                break
        handed = False

        async def replay() -> Any:
            nonlocal handed
            if handed:
                return await receive()
            handed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return replay

    def _refusal(self, headers: dict[bytes, bytes]) -> JSONResponse | None:
        if self.token is not None:
            scheme, _, value = headers.get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(
                value.strip(), self.token.encode()
            ):
                return _error(
                    401,
                    "unauthorized",
                    "This server needs a bearer token: send 'Authorization: Bearer <token>'",
                )
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return _error(
                413,
                "body_too_large",
                f"The request body has {int(length)} bytes; the limit is {self.max_body_bytes}",
            )
        return None


def create_app(
    models: ModelSet,
    *,
    token: str | None = None,
    limits: Limits | None = None,
    max_batch: int = 64,
    max_wait: float = 0.002,
) -> FastAPI:
    """The FastAPI app serving ``models``.

    Parameters
    ----------
    models : ModelSet
        The loaded models (:meth:`ModelSet.load`).
    token : str or None
        When given, every ``/v1`` request needs ``Authorization: Bearer <token>``.
    limits : Limits or None
        Request size limits (default :class:`Limits`).
    max_batch, max_wait : micro-batching of each encoder (see
        :class:`~littledata.serve.batching.EncoderBatcher`).
    """
    limits = limits or Limits()
    batchers: dict[str, EncoderBatcher] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for key, fz in models.encoders.items():
            batchers[key] = EncoderBatcher(fz, max_batch=max_batch, max_wait=max_wait)
        for batcher in batchers.values():  # load the weights now, not at the first request
            batcher.warm_up()
        try:
            yield
        finally:
            for batcher in batchers.values():
                batcher.close()

    app = FastAPI(
        title="littledata models",
        summary="Text classifiers trained with littledata: many heads over one encoder.",
        version="1",
        lifespan=lifespan,
    )

    app.add_middleware(Guard, token=token, max_body_bytes=limits.max_body_bytes)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.type, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(*_validation_message(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, kind, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("error answering %s", request.url.path)
        return _error(500, "internal_error", f"The server failed: {type(exc).__name__}")

    def served(name: str) -> ServedModel:
        try:
            return models.models[name]
        except KeyError:
            known = ", ".join(sorted(models.models))
            raise ApiError(
                404, "unknown_model", f"No model named {name!r}; this server has: {known}"
            ) from None

    async def encode(key: str, sides: list[list[str]]) -> list[Any]:
        """Each side's features from the featurizer ``key``: every side in one submission, so
        a pair's two texts go through one micro-batched encoder call."""
        flat = [t for side in sides for t in side]
        features = await asyncio.wrap_future(batchers[key].submit(flat))
        n = len(sides[0])
        return [features[i * n : (i + 1) * n] for i in range(len(sides))]

    async def tokens(model: ServedModel, sides: list[Any]) -> list[Any]:
        """A tagger's word features of the sentences ``sides[0]``, computed by its encoder's
        worker thread (in turn with the batches; each tagger's pooling its own)."""
        sentences = sides[0]
        job = batchers[model.encoder].call(
            lambda fz: model.model._features([sentences], fz, cache=False), texts=len(sentences)
        )
        return [await asyncio.wrap_future(job)]

    async def answers(chosen: list[ServedModel], sides: list[Any]) -> list[dict[str, Any]]:
        if chosen and chosen[0].inputs == "tokens":
            encoded = await asyncio.gather(*(tokens(m, sides) for m in chosen))
            return [_answer(m, p, sides) for m, p in zip(chosen, encoded, strict=True)]
        keys = list(dict.fromkeys(m.encoder for m in chosen))
        encoded = await asyncio.gather(*(encode(k, sides) for k in keys))
        parts = dict(zip(keys, encoded, strict=True))
        return [_answer(m, parts[m.encoder], sides) for m in chosen]

    @app.post("/v1/models/{name}/predict", response_model=Prediction)
    async def predict_one(name: str, body: PredictRequest) -> dict[str, Any]:
        """Classify ``texts`` (``pairs`` for a sentence-pair model, ``tokens`` for a tagger)
        with the model ``name``."""
        model = served(name)
        sent, sides = request_inputs(body, limits)
        check_input_kind(model, sent)
        return (await answers([model], sides))[0]

    @app.post("/v1/predict", response_model=MultiPrediction)
    async def predict_many(body: MultiPredictRequest) -> dict[str, Any]:
        """Classify ``texts`` (or ``pairs``) with several models (by default every model that
        takes what was sent); each featurizer encodes them once."""
        sent, sides = request_inputs(body, limits)
        if body.models is None:
            chosen = [m for m in models if m.inputs == sent]
            if not chosen:
                raise ApiError(
                    422, "wrong_input", f"no model on this server takes {sent}; its models "
                    f"take {', '.join(sorted({m.inputs for m in models}))}",
                )  # fmt: skip
        else:
            if not body.models:
                raise ApiError(422, "invalid_request", "models is empty: name at least one model")
            chosen = [served(n) for n in dict.fromkeys(body.models)]
            for model in chosen:
                check_input_kind(model, sent)
        return {"results": await answers(chosen, sides)}

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        """The models: name, classes, featurizer, head, training metrics and manifest."""
        return {"models": [m.summary() for m in models]}

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, the number of models and each encoder's batching counts."""
        encoders = []
        for key, batcher in batchers.items():
            fz = models.encoders[key]
            encoders.append(
                {
                    "featurizer": getattr(fz, "name", "?"),
                    "models": sorted(m.name for m in models if m.encoder == key),
                    **batcher.stats.as_dict(),
                }
            )
        return {"status": "ok", "models": len(models), "encoders": encoders}

    return app
