"""A Kubeflow Pipelines API server on 127.0.0.1 that answers the v2beta1 REST calls
``kfp.Client`` makes to upload a pipeline and start runs, records every request, and holds
them to the real API's rules. Request bodies must be the API's published models
(``kfp_server_api``: an unknown field is refused) and answers are built from them; as KFP
does, it refuses a pipeline version name twice in one pipeline (kubeflow/pipelines#13535), an
experiment or listing without a namespace on a multi-user cluster, a run of an unknown
version or experiment, runtime parameters the pipeline does not declare, and a recurring run
without a valid cron trigger. It can also stand behind a browser login (every request is
redirected to another origin) or echo the request's headers in its errors, as some proxies
do."""

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

import kfp_server_api
import yaml

API = "/apis/v2beta1"
_CLIENT = kfp_server_api.ApiClient()


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def model(self, name: str):
        """The body as ``kfp_server_api``'s model ``name``; a field it lacks is refused."""
        body = self.json()
        cls = getattr(kfp_server_api, name)
        unknown = set(body) - set(cls.attribute_map.values())
        if unknown:
            raise ApiError(400, f"Invalid input error: unknown fields {sorted(unknown)} in {name}")
        return _CLIENT._ApiClient__deserialize(body, name)

    def uploaded_file(self) -> bytes:
        """The ``uploadfile`` part of a multipart upload."""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode() + self.body
        )
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "uploadfile":
                return part.get_payload(decode=True)
        raise ApiError(400, "Invalid input error: no uploadfile")


def _spec(request: Request) -> dict:
    try:
        spec = next(yaml.safe_load_all(request.uploaded_file()))
        spec["pipelineInfo"]["name"], spec["root"]  # noqa: B018
        return spec
    except (yaml.YAMLError, TypeError, KeyError, StopIteration):
        raise ApiError(400, "Invalid input error: not a pipeline spec") from None


@dataclass
class FakeKfp:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    token: str | None = None  # when set, other bearer tokens get 401
    multi_user: bool = False
    login_redirect: str | None = None  # every request is sent there (a browser login)
    echo_headers: bool = False  # errors repeat the request's headers
    pipelines: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, dict] = field(default_factory=dict)  # id -> version, with its spec
    experiments: dict[str, dict] = field(default_factory=dict)
    runs: dict[str, dict] = field(default_factory=dict)
    recurring_runs: dict[str, dict] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == API + path]

    def answer(self, request: Request) -> tuple[int, dict]:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthenticated", "message": "bad token", "code": 16}
        try:
            return 200, self._route(request)
        except ApiError as e:
            message = str(e)
            if self.echo_headers:
                message += f" (request headers: {json.dumps(request.headers)})"
            return e.status, {"error": message, "message": message, "code": 3}

    def _route(self, request: Request) -> dict:
        route = (request.method, request.path.removeprefix(API))
        if route == ("GET", "/healthz"):
            return _answer(kfp_server_api.V2beta1GetHealthzResponse(multi_user=self.multi_user))
        if route == ("GET", "/pipelines"):
            return {"pipelines": _filtered(self.pipelines, request)}
        if route == ("POST", "/pipelines/upload"):
            return self._upload(request)
        if route == ("POST", "/pipelines/upload_version"):
            return self._upload_version(request)
        if route == ("GET", "/experiments"):
            self._namespace(request.query.get("namespace"))
            return {"experiments": _filtered(self.experiments, request)}
        if route == ("POST", "/experiments"):
            return self._create_experiment(request.model("V2beta1Experiment"))
        if route == ("POST", "/runs"):
            return self._create_run(request.model("V2beta1Run"), self.runs, "run")
        if route == ("POST", "/recurringruns"):
            recurring = request.model("V2beta1RecurringRun")
            cron = recurring.trigger and recurring.trigger.cron_schedule
            if not cron or len((cron.cron or "").split()) != 6:
                raise ApiError(400, "Invalid input error: a cron schedule of 6 fields")
            if not recurring.max_concurrency or not 1 <= int(recurring.max_concurrency) <= 10:
                raise ApiError(400, "Invalid input error: max concurrency must be in [1, 10]")
            return self._create_run(recurring, self.recurring_runs, "recurring_run")
        raise ApiError(404, f"no route {route}")

    def _namespace(self, namespace: str | None) -> None:
        if self.multi_user and not namespace:
            raise ApiError(
                400, "Invalid input error: In multi-user mode, a namespace must be specified"
            )

    def _upload(self, request: Request) -> dict:
        name = request.query.get("name")
        if not name:
            raise ApiError(400, "Invalid input error: pipeline name is empty")
        if any(p.display_name == name for p in self.pipelines.values()):
            raise ApiError(409, f"Already exist error: pipeline {name!r} already exists")
        _spec(request)
        pipeline = kfp_server_api.V2beta1Pipeline(
            pipeline_id=f"pipeline-{next(self.ids)}",
            display_name=name,
            description=request.query.get("description"),
        )
        self.pipelines[pipeline.pipeline_id] = pipeline
        self._add_version(pipeline.pipeline_id, name, request)
        return _answer(pipeline)

    def _upload_version(self, request: Request) -> dict:
        pipeline_id, name = request.query.get("pipelineid"), request.query.get("name")
        if pipeline_id not in self.pipelines:
            raise ApiError(404, f"Not found error: pipeline {pipeline_id} not found")
        if not name:
            raise ApiError(400, "Invalid input error: pipeline version name is empty")
        taken = {
            v["version"].display_name
            for v in self.versions.values()
            if v["version"].pipeline_id == pipeline_id
        }
        if name in taken:
            raise ApiError(
                409,
                f"Already exist error: Failed to create a pipeline version: the name {name!r} "
                f"already exists in pipeline {pipeline_id}",
            )
        return _answer(self._add_version(pipeline_id, name, request))

    def _add_version(self, pipeline_id: str, name: str, request: Request):
        version = kfp_server_api.V2beta1PipelineVersion(
            pipeline_id=pipeline_id,
            pipeline_version_id=f"version-{next(self.ids)}",
            display_name=name,
        )
        self.versions[version.pipeline_version_id] = {"version": version, "spec": _spec(request)}
        return version

    def _create_experiment(self, experiment) -> dict:
        if not experiment.display_name:
            raise ApiError(400, "Invalid input error: experiment name is empty")
        self._namespace(experiment.namespace)
        if any(
            e.display_name == experiment.display_name and e.namespace == experiment.namespace
            for e in self.experiments.values()
        ):
            raise ApiError(409, f"Already exist error: experiment {experiment.display_name!r}")
        experiment.experiment_id = f"experiment-{next(self.ids)}"
        self.experiments[experiment.experiment_id] = experiment
        return _answer(experiment)

    def _create_run(self, run, store: dict, kind: str) -> dict:
        if not run.display_name:
            raise ApiError(400, f"Invalid input error: {kind} name is empty")
        if run.experiment_id not in self.experiments:
            raise ApiError(404, f"Not found error: experiment {run.experiment_id} not found")
        reference = run.pipeline_version_reference
        stored = reference and self.versions.get(reference.pipeline_version_id)
        if not stored or stored["version"].pipeline_id != reference.pipeline_id:
            raise ApiError(404, "Not found error: the pipeline version does not exist")
        declared = stored["spec"]["root"].get("inputDefinitions", {}).get("parameters", {})
        given = (run.runtime_config and run.runtime_config.parameters) or {}
        if unknown := sorted(set(given) - set(declared)):
            raise ApiError(400, f"Invalid input error: the pipeline has no parameters {unknown}")
        setattr(run, f"{kind}_id", f"{kind.replace('_', '')}-{next(self.ids)}")
        store[getattr(run, f"{kind}_id")] = run
        return _answer(run)


def _answer(model) -> dict:
    return _CLIENT.sanitize_for_serialization(model)


def _filtered(objects: dict, request: Request) -> list[dict]:
    predicates = json.loads(request.query.get("filter", "{}")).get("predicates", [])
    names = {p["stringValue"] for p in predicates if p["key"] == "display_name"}
    namespace = request.query.get("namespace")
    return [
        _answer(o)
        for o in objects.values()
        if (not names or o.display_name in names)
        and (namespace is None or getattr(o, "namespace", namespace) == namespace)
    ]


@contextmanager
def fake_kfp_server(token: str | None = None, **rules) -> Iterator[FakeKfp]:
    """Serves a ``FakeKfp`` (``rules`` set its other fields) on a free port of 127.0.0.1 for
    the duration of the block."""
    fake = FakeKfp(token=token, **rules)

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
            if fake.login_redirect:
                self.send_response(302)
                self.send_header("Location", fake.login_redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
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
