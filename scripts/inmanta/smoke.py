#!/usr/bin/env python3
"""
End-to-end check of the local Inmanta lab: the LSM service model upgrade procedure from release A
to release B against a real orchestrator, with the REST API and the export CLI.

    python3 scripts/inmanta/smoke.py [--dir DIR] [--keep]

DIR defaults to a new temporary folder; --keep leaves the lab running (see DIR/lab.env).
Prints one line per check and a closing "N passed, N failed"; exit code 1 when a check failed.
Standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))

passed = 0
failed = 0
timings: list[tuple[str, float]] = []
temp_lab_dir: Optional[str] = None  # removed at the end unless --keep


def check(name: str, ok: bool, detail: str = "") -> None:
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")
    sys.stdout.flush()


class Api:
    def __init__(self, url: str, env: str) -> None:
        self.url = url.rstrip("/")
        self.env = env

    def call(self, method: str, path: str, body: Optional[Any] = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-Inmanta-tid", self.env)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw) if raw else None
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def compile(self, update: bool, message: str, timeout: float = 600) -> dict[str, Any]:
        start = time.monotonic()
        code, _ = self.call("POST", f"/api/v1/notify/{self.env}", {"update": update, "metadata": {"type": "api", "message": message}})
        assert code == 200, code
        time.sleep(0.3)
        while time.monotonic() - start < timeout:
            code, _ = self.call("HEAD", f"/api/v1/notify/{self.env}")
            if code == 204:
                break
            time.sleep(0.5)
        timings.append((f"compile update={update} ({message})", time.monotonic() - start))
        _, body = self.call("GET", "/api/v2/compilereport?limit=1&sort=requested.desc")
        return body["data"][0]

    def wait_deployed(self, version: int, timeout: float = 180) -> dict[str, Any]:
        start = time.monotonic()
        model: dict[str, Any] = {}
        while time.monotonic() - start < timeout:
            _, body = self.call("GET", f"/api/v1/version/{version}")
            model = body["model"]
            if model["deployed"]:
                break
            time.sleep(0.5)
        timings.append((f"deploy v{version}", time.monotonic() - start))
        return model

    def dryrun(self, version: int, timeout: float = 120) -> dict[str, Any]:
        _, body = self.call("POST", f"/api/v2/dryrun/{version}")
        dryrun_id = body["data"]
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            _, body = self.call("GET", f"/api/v2/dryrun/{version}")
            if [d for d in body["data"] if d["id"] == dryrun_id and d["todo"] == 0]:
                break
            time.sleep(0.5)
        _, body = self.call("GET", f"/api/v2/dryrun/{version}/{dryrun_id}")
        return body["data"]


def sh(*args: str, env: Optional[dict[str, str]] = None, cwd: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=cwd)


def read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    global temp_lab_dir
    lab_dir = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="inmanta-lab-")
    temp_lab_dir = None if args.dir else lab_dir
    os.makedirs(lab_dir, exist_ok=True)
    os.chmod(lab_dir, 0o755)  # the postgres user must reach DIR/pg

    t0 = time.monotonic()
    venv = sh("bash", os.path.join(HERE, "venv.sh"))
    timings.append(("venv.sh", time.monotonic() - t0))
    check("venv.sh", venv.returncode == 0, venv.stderr[-2000:])
    if venv.returncode != 0:
        return finish(lab_dir, args.keep)

    t0 = time.monotonic()
    up = sh("bash", os.path.join(HERE, "lab.sh"), "up", lab_dir)
    timings.append(("lab.sh up (postgres, server, repository, environment, fixtures)", time.monotonic() - t0))
    check("lab.sh up", up.returncode == 0, up.stderr[-3000:])
    if up.returncode != 0:
        return finish(lab_dir, args.keep)
    lab = dict(line.split("=", 1) for line in up.stdout.strip().splitlines() if "=" in line)
    api = Api(lab["URL"], lab["ENV_ID"])
    files = lab["FILES_DIR"]
    try:
        run(api, lab, lab_dir, files)
    except Exception as e:  # report, then clean up
        check("no unexpected error", False, repr(e))
    return finish(lab_dir, args.keep)


def export(lab: dict[str, str], lab_dir: str, plugin: str) -> subprocess.CompletedProcess[str]:
    """The operator's export step: in the environment's project folder, with its compiler venv."""
    project = lab["PROJECT_DIR"]
    cmd = (
        f". {lab_dir}/server/env.sh && inmanta-workon {lab['ENV_ID']} && "
        f"inmanta -vvv -X export -j {lab_dir}/dump-{plugin}.json -e {lab['ENV_ID']} -f loader.cf --export-plugin {plugin}"
    )
    t0 = time.monotonic()
    result = sh("bash", "-c", cmd, cwd=project)
    timings.append((f"export --export-plugin {plugin}", time.monotonic() - t0))
    return result


def psql(lab: dict[str, str], lab_dir: str, sql: str) -> str:
    out = sh("bash", os.path.join(HERE, "pg.sh"), "psql", f"{lab_dir}/pg", lab["PG_PORT"], "-tA", "-c", sql)
    return out.stdout.strip()


def run(api: Api, lab: dict[str, str], lab_dir: str, files: str) -> None:
    code, body = api.call("GET", "/api/v2/environment_settings")
    definition = body["data"]["definition"] if code == 200 else {}
    for name in ("auto_deploy", "protected_environment", "push_on_auto_deploy", "agent_trigger_method_on_auto_deploy",
                 "autostart_agent_deploy_interval", "server_compile"):
        check(f"setting {name} defined", name in definition)

    check("protected_environment=true", api.call("POST", "/api/v2/environment_settings/protected_environment", {"value": True})[0] == 200)
    check("auto_deploy=false", api.call("POST", "/api/v2/environment_settings/auto_deploy", {"value": False})[0] == 200)

    # install release A
    report = api.compile(True, "install release A")
    check("compile A (update) succeeded", report["success"] is True, json.dumps(report)[:500])
    v_a = report["version"]
    _, body = api.call("GET", "/api/v2/desiredstate?limit=1")
    check("version A is a candidate", body["data"][0]["version"] == v_a and body["data"][0]["status"] == "candidate", str(body))
    check("A export strict (no instance change)", export(lab, lab_dir, "service_entities_exporter_strict").returncode == 0)
    code, _ = api.call("POST", f"/api/v1/version/{v_a}", {"push": True, "agent_trigger_method": "push_incremental_deploy"})
    check("release A", code == 200)
    model = api.wait_deployed(v_a)
    check("A deployed", model.get("deployed") is True and model.get("result") == "success", str(model)[:500])
    check("service-a.conf is release A", read(f"{files}/service-a.conf") == "release A\n", repr(read(f"{files}/service-a.conf")))
    check("no service-b.conf yet", read(f"{files}/service-b.conf") is None)

    # upgrade to release B
    check("pause agents", api.call("POST", "/api/v2/agents/pause")[0] == 200)
    repo = sh("bash", os.path.join(HERE, "model-repo.sh"), lab["REPO_DIR"], "b")
    check("publish release B", repo.returncode == 0, repo.stderr)
    report = api.compile(True, "update to release B")
    check("compile B (update) succeeded", report["success"] is True, json.dumps(report)[:500])
    _, body = api.call("GET", f"/api/v1/version/{report['version']}")
    check("B candidate not released", body["model"]["released"] is False)
    strict = export(lab, lab_dir, "service_entities_exporter_strict")
    check("B export strict refuses instance changes", strict.returncode != 0 and "would change existing service instances" in strict.stdout + strict.stderr)
    check("strict export wrote nothing", psql(lab, lab_dir, f"SELECT version FROM lsm_serviceentity WHERE environment='{lab['ENV_ID']}' AND name='lab_config_file'") == "1")
    plain = export(lab, lab_dir, "service_entities_exporter")
    check("B export (with instance updates)", plain.returncode == 0, (plain.stdout + plain.stderr)[-1500:])
    owners = psql(lab, lab_dir, f"SELECT count(*) FROM lsm_serviceinstance WHERE environment='{lab['ENV_ID']}' AND active_attributes->>'owner' = 'ops'")
    check("instances migrated (owner=ops)", owners == "2", owners)
    report = api.compile(False, "recompile after export")
    check("recompile B succeeded", report["success"] is True)
    v_b = report["version"]
    check("unpause agents", api.call("POST", "/api/v2/agents/unpause")[0] == 200)
    time.sleep(2)
    t0 = time.monotonic()
    diff = api.dryrun(v_b)
    timings.append(("dry run", time.monotonic() - t0))
    statuses = {d["resource_id"].split("path=")[-1].rstrip("]").rsplit("/", 1)[-1]: d["status"] for d in diff["diff"]}
    check("dry run: service-a.conf modified", statuses.get("service-a.conf") == "modified", str(statuses))
    check("dry run: service-b.conf added", statuses.get("service-b.conf") == "added", str(statuses))
    code, _ = api.call("POST", f"/api/v1/version/{v_b}", {"push": True, "agent_trigger_method": "push_incremental_deploy"})
    check("release B", code == 200)
    model = api.wait_deployed(v_b)
    check("B deployed", model.get("deployed") is True and model.get("result") == "success", str(model)[:500])
    check("service-a.conf is release B", read(f"{files}/service-a.conf") == "release B\n")
    check("service-b.conf written", read(f"{files}/service-b.conf") == "release B: new service\n")
    code, _ = api.call("POST", f"/api/v1/version/{v_a}", {"push": True})
    check("releasing the older version A again is refused (409)", code == 409, str(code))
    check("auto_deploy=true", api.call("POST", "/api/v2/environment_settings/auto_deploy", {"value": True})[0] == 200)


def finish(lab_dir: str, keep: bool) -> int:
    if not keep:
        sh("bash", os.path.join(HERE, "lab.sh"), "down", lab_dir)
        if temp_lab_dir:
            shutil.rmtree(temp_lab_dir, ignore_errors=True)
    else:
        print(f"lab left running: {lab_dir}/lab.env")
    for name, seconds in timings:
        print(f"time {seconds:6.1f}s  {name}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
