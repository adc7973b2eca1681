"""A Kubeflow Pipelines API server on 127.0.0.1 that answers the v2beta1 REST calls
``kfp.Client`` makes to upload a pipeline and start runs, and records every request."""

import email.parser
import email.policy
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API = "/apis/v2beta1"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def uploaded_file(self) -> bytes:
        """The ``uploadfile`` part of a multipart upload."""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode() + self.body
        )
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "uploadfile":
                return part.get_payload(decode=True)
        raise KeyError("uploadfile")


@dataclass
class FakeKfp:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    token: str | None = None  # when set, other bearer tokens get 401
    pipelines: dict[str, dict] = field(default_factory=dict)
    experiments: dict[str, dict] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == API + path]

    def answer(self, request: Request) -> tuple[int, dict]:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthenticated", "message": "bad token"}
        route = (request.method, request.path.removeprefix(API))
        if route == ("GET", "/healthz"):
            return 200, {"multi_user": False}
        if route == ("GET", "/pipelines"):
            return 200, {"pipelines": _filtered(self.pipelines, request)}
        if route == ("POST", "/pipelines/upload"):
            pipeline = {"pipeline_id": f"pipeline-{next(self.ids)}"}
            pipeline["display_name"] = request.query["name"]
            self.pipelines[pipeline["pipeline_id"]] = pipeline
            return 200, pipeline
        if route == ("POST", "/pipelines/upload_version"):
            pipeline_id = request.query["pipelineid"]
            if pipeline_id not in self.pipelines:
                return 404, {"message": f"pipeline {pipeline_id} not found"}
            version = {"pipeline_id": pipeline_id, "display_name": request.query["name"]}
            version["pipeline_version_id"] = f"version-{next(self.ids)}"
            return 200, version
        if route == ("GET", "/experiments"):
            return 200, {"experiments": _filtered(self.experiments, request)}
        if route == ("POST", "/experiments"):
            experiment = {**request.json(), "experiment_id": f"experiment-{next(self.ids)}"}
            self.experiments[experiment["experiment_id"]] = experiment
            return 200, experiment
        if route == ("POST", "/runs"):
            return 200, {**request.json(), "run_id": f"run-{next(self.ids)}"}
        if route == ("POST", "/recurringruns"):
            return 200, {**request.json(), "recurring_run_id": f"recurring-{next(self.ids)}"}
        return 404, {"message": f"no route {route}"}


def _filtered(objects: dict[str, dict], request: Request) -> list[dict]:
    predicates = json.loads(request.query.get("filter", "{}")).get("predicates", [])
    names = {p["stringValue"] for p in predicates if p["key"] == "display_name"}
    return [o for o in objects.values() if not names or o["display_name"] in names]


@contextmanager
def fake_kfp_server(token: str | None = None) -> Iterator[FakeKfp]:
    """Serves a ``FakeKfp`` on a free port of 127.0.0.1 for the duration of the block."""
    fake = FakeKfp(token=token)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("content-length") or 0)
            request = Request(
                method=self.command,
                path=parsed.path,
                query={k: v[0] for k, v in parse_qs(parsed.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
            fake.requests.append(request)
            status, payload = fake.answer(request)
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
