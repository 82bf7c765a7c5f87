#!/usr/bin/python3
"""Reads deploy/kubernetes/indexed-job.yaml (with Debian's python3-yaml) and prints, as one
JSON object, what KubernetesTest checks and runs: the Indexed Job's counts, its container's
command and environment, and the merge Job's shell command."""
import json
import sys

import yaml


def container(job, name):
    for c in job["spec"]["template"]["spec"]["containers"]:
        if c["name"] == name:
            return c
    raise SystemExit(f"no container {name!r} in job {job['metadata']['name']!r}")


def main(path):
    with open(path, encoding="utf-8") as f:
        documents = [d for d in yaml.safe_load_all(f) if d]
    jobs = [d for d in documents if d.get("kind") == "Job"]
    indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
    merges = [j for j in jobs if j["spec"].get("completionMode") != "Indexed"]
    if len(indexed) != 1 or len(merges) != 1:
        raise SystemExit(f"expected one Indexed Job and one merge Job, found {len(indexed)} and {len(merges)}")
    shards, merge = indexed[0], merges[0]
    shard = container(shards, "orchestrator")
    merge_container = container(merge, "merge")
    command = merge_container["command"]
    if command[:2] != ["sh", "-c"] or len(command) != 3:
        raise SystemExit(f"the merge container's command is not sh -c '...': {command}")
    print(json.dumps({
        "completions": shards["spec"]["completions"],
        "parallelism": shards["spec"]["parallelism"],
        "restart_policy": shards["spec"]["template"]["spec"]["restartPolicy"],
        "command": shard["command"] + shard.get("args", []),
        "env": {e["name"]: e["value"] for e in shard.get("env", [])},
        "mounts": sorted(m["mountPath"] for m in shard["volumeMounts"]),
        "merge_shell": command[2],
        "merge_mounts": sorted(m["mountPath"] for m in merge_container["volumeMounts"]),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
