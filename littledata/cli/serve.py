"""Command: ``serve`` (see littledata.cli): saved models over HTTP, each encoder loaded once."""

from __future__ import annotations

from typing import Annotated

import typer

from littledata.cli.app import app


@app.command("serve")
def serve_command(
    model_dirs: Annotated[
        list[str],
        typer.Argument(
            help="Model folders (`littledata train`), each as FOLDER (named after the folder) "
            "or NAME=FOLDER.",
            show_default=False,
        ),
    ],
    host: Annotated[
        str,
        typer.Option("--host", help="Address to bind; another than 127.0.0.1 needs --token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Bearer token every /v1 request must send (default: $LITTLEDATA_TOKEN).",
            show_default=False,
        ),
    ] = None,
    max_texts: Annotated[int, typer.Option("--max-texts", help="Most texts in one request.")] = 256,
    max_chars: Annotated[
        int, typer.Option("--max-chars", help="Most characters in one request (all texts).")
    ] = 200_000,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes",
            help="Most bytes in one request's body, from its Content-Length (larger: 413).",
        ),
    ] = 4_000_000,
    max_batch: Annotated[
        int, typer.Option("--max-batch", help="Most texts per encoder call.")
    ] = 64,
    batch_wait_ms: Annotated[
        float,
        typer.Option(
            "--batch-wait-ms", help="How long an encoder waits to batch concurrent requests."
        ),
    ] = 2.0,
) -> None:
    """Serve saved models over HTTP (FastAPI on uvicorn; OpenAPI docs at /docs).

    POST /v1/models/NAME/predict and /v1/predict (several models, one encoding), GET /v1/models
    and /healthz. Models that share a featurizer share one loaded encoder. A request sends
    {"texts": [...]}, or {"pairs": [[text, text_pair], ...]} for sentence-pair models.
    """
    from littledata.serve.app import Limits
    from littledata.serve.run import serve

    limits = Limits(max_texts=max_texts, max_chars=max_chars, max_body_bytes=max_body_bytes)
    serve(
        model_dirs,
        host=host,
        port=port,
        token=token,
        limits=limits,
        max_batch=max_batch,
        max_wait=batch_wait_ms / 1000.0,
    )
