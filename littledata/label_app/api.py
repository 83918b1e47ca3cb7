"""The labeling app over HTTP: a JSON API and the page that uses it (FastAPI).

Endpoints (JSON bodies; every one names its ``annotator``, which per-annotator tokens make
optional: then the token says who it is)::

    GET  /                     the labeling page (static/index.html, app.js, app.css)
    GET  /api/config           the label set and the keys
    POST /api/next             {"annotator"} -> {"item": {...} | null}
    POST /api/answer           {"annotator", "item_id", "label"} -> the next item
    POST /api/skip             {"annotator", "item_id"} -> the next item
    POST /api/unsure           {"annotator", "item_id"} -> the next item ("not sure")
    POST /api/undo             {"annotator"} -> the item taken back
    GET  /api/stats            counts per class, the learning curve, the stopping message
    GET  /api/export?format=   every answer as csv or jsonl

An item is ``{"id", "text", "suggestion", "confidence", "required", "n_done"}``; the suggestion
is the current model's label (``null`` before it has two classes). Errors are JSON
``{"error": "..."}``: 401 without the token (when one is set) or with no annotator's token,
403 a body naming another annotator than the token's, 404 an item outside the pool,
409 a stale item (not leased to this annotator) or a double submit, 422 an unknown label or a
malformed request, 503 (with ``Retry-After``) when the database itself fails (a server down, a
lock held too long, a broken file): not the request's fault.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from littledata.errors import ConfigError, DatabaseError, LittleDataError
from littledata.label_app.annotators import ANNOTATOR, identify
from littledata.label_app.session import LabelSession
from littledata.label_app.store import AnswerConflictError, Item, StaleItemError

__all__ = ["create_app"]


class Who(BaseModel):
    annotator: str | None = Field(default=None, pattern=ANNOTATOR)


class ItemRef(Who):
    item_id: int = Field(ge=0, strict=True)  # a JSON integer: not true, 1.0 or "1"


class Answer(ItemRef):
    label: str = Field(min_length=1, max_length=200)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(
    session: LabelSession,
    *,
    token: str | None = None,
    annotators: Mapping[str, str] | None = None,
) -> FastAPI:
    """The app over ``session`` (started and stopped with the app). With ``token``, every API
    call must carry it (``Authorization: Bearer <token>``; the page reads it from its URL,
    ``/?token=...``) and names its annotator in the body. With ``annotators`` (name -> token,
    see :mod:`littledata.label_app.annotators`) instead, every API call carries its annotator's
    token, which says who it is: a body naming another annotator is refused (403)."""
    if token is not None and annotators:
        raise ConfigError(
            "Give a shared token or per-annotator tokens, not both (is $LITTLEDATA_TOKEN set?)."
        )
    tokens = dict(annotators or {})

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        session.start()
        try:
            yield
        finally:
            session.stop()

    app = FastAPI(title="littledata labeling", docs_url=None, redoc_url=None, lifespan=lifespan)
    static = resources.files("littledata.label_app") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    labels = set(session.classes)
    n_items = len(session.texts)

    @app.middleware("http")
    async def _check_token(request: Request, call_next: Any) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        request.state.annotator = None
        if tokens and request.url.path.startswith("/api/"):
            request.state.annotator = identify(tokens, given)
            if request.state.annotator is None:
                return JSONResponse(
                    {"error": "This server needs your own token: open the page with ?token=..."},
                    status_code=401,
                )
        elif (
            token is not None
            and request.url.path.startswith("/api/")
            and not secrets.compare_digest(given.encode(), token.encode())
        ):
            return JSONResponse(
                {"error": "This server needs its token: open the page with ?token=..."},
                status_code=401,
            )
        start = time.perf_counter()
        response: Response = await call_next(request)
        # the time spent in the app, for the browser's network panel and the load test
        response.headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - start):.1f}"
        return response

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # an unknown path (404) or method (405): the same {"error"} shape as every other error
        what = {404: f"There is no {request.url.path}", 405: f"{request.method} is not allowed "
                f"on {request.url.path}"}.get(exc.status_code, str(exc.detail))  # fmt: skip
        return JSONResponse(
            {"error": f"{what}; see docs/labeling.md for the API."},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _malformed(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{where or 'body'}: {e.get('msg', 'invalid')}")
        return JSONResponse({"error": "Malformed request: " + "; ".join(parts)}, status_code=422)

    def item_json(item: Item | None) -> dict[str, Any]:
        if item is None:
            return {"item": None}
        suggestion = session.suggest(item.id)
        return {
            "item": {
                "id": item.id,
                "text": item.text,
                "suggestion": suggestion[0] if suggestion else None,
                "confidence": round(suggestion[1], 4) if suggestion else None,
                "required": item.required,
                "n_done": item.n_done,
            }
        }

    def check_item(item_id: int) -> None:
        if item_id >= n_items:
            raise ApiError(404, f"There is no item {item_id} (items 0..{n_items - 1}).")

    def annotator(request: Request, body: Who) -> str:
        """Who acts: the token's annotator (a body naming another is refused), else the body's."""
        known: str | None = request.state.annotator
        if known is not None:
            if body.annotator is not None and body.annotator != known:
                raise ApiError(403, f"Your token is {known}'s; you cannot act as {body.annotator}.")
            return known
        if body.annotator is None:
            raise ApiError(422, "Malformed request: annotator: Field required")
        return body.annotator

    def answer(who: str, ref: ItemRef, kind: str, label: str | None = None) -> dict[str, Any]:
        check_item(ref.item_id)
        try:
            session.store.answer(ref.item_id, who, kind, label)
        except (StaleItemError, AnswerConflictError) as exc:
            raise ApiError(409, str(exc)) from None
        session.changed()
        return item_json(session.store.lease_next(who))

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html")

    @app.get("/api/config")
    def config(request: Request) -> dict[str, Any]:
        # "annotator": the token's annotator (the page asks no name), or null (it asks)
        return {
            "labels": session.classes, "items": n_items, "annotator_pattern": ANNOTATOR,
            "annotator": request.state.annotator,
        }  # fmt: skip

    @app.post("/api/next")
    def next_item(request: Request, body: Who) -> dict[str, Any]:
        return item_json(session.store.lease_next(annotator(request, body)))

    @app.post("/api/answer")
    def post_answer(request: Request, body: Answer) -> dict[str, Any]:
        who = annotator(request, body)
        if body.label not in labels:
            raise ApiError(
                422, f"Unknown label {body.label!r}; one of {', '.join(session.classes)}."
            )
        return answer(who, body, "label", body.label)

    @app.post("/api/skip")
    def skip(request: Request, ref: ItemRef) -> dict[str, Any]:
        return answer(annotator(request, ref), ref, "skip")

    @app.post("/api/unsure")
    def unsure(request: Request, ref: ItemRef) -> dict[str, Any]:
        return answer(annotator(request, ref), ref, "unsure")

    @app.post("/api/undo")
    def undo(request: Request, body: Who) -> dict[str, Any]:
        who = annotator(request, body)
        try:
            item_id = session.store.undo(who)
        except StaleItemError as exc:
            raise ApiError(409, str(exc)) from None
        if item_id is None:
            raise ApiError(409, f"{who} has nothing to undo.")
        session.changed()
        return item_json(session.store.current(who))

    @app.get("/api/stats")
    def stats() -> dict[str, Any]:
        return session.status()

    @app.get("/api/export")
    def export(format: str = "jsonl") -> Response:
        from littledata.label_app.export import answers_frame, frame_bytes

        if format not in ("csv", "jsonl"):
            raise ApiError(422, f"Unknown export format {format!r}; csv or jsonl.")
        body = frame_bytes(answers_frame(session.store), format)
        media = "text/csv" if format == "csv" else "application/x-ndjson"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="labels.{format}"'},
        )

    @app.exception_handler(LittleDataError)
    async def _user_error(_request: Request, exc: LittleDataError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(DatabaseError)
    async def _database_down(_request: Request, exc: DatabaseError) -> JSONResponse:
        # the server's database failed (a server down, a lock held too long): not the
        # request's fault, and worth retrying; the page keeps the label and says so
        return JSONResponse(
            {"error": f"The labeling database failed; try again in a moment. ({exc})"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    return app
