#!/usr/bin/env python3
"""Drives `git-rag mcp` with the official MCP Python SDK over stdio, as a coding agent would.

Usage: mcp_session.py GIT_RAG_BINARY REPOSITORY

Against a repository already synced: initialize, list the tools, search, commit a new file,
check status, sync (with progress), search again, search an uncommitted file, and two error
cases. Prints one JSON object describing what the server answered; the Swift test asserts on it.
"""
import asyncio
import json
import os
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text_of(result):
    return "".join(part.text for part in result.content if getattr(part, "type", "") == "text")


def hits(result):
    body = json.loads(text_of(result))
    return body, [(h["payload"]["file_path"], h["working_tree"]) for h in body["results"]]


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


async def session(binary, repo):
    report = {}
    params = StdioServerParameters(command=binary, args=["mcp"], env=dict(os.environ), cwd=repo)
    started = time.monotonic()
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as client:
            init = await client.initialize()
            report["startup_ms"] = (time.monotonic() - started) * 1000
            report["server_name"] = init.server_info.name
            tools = await client.list_tools()
            report["tools"] = {t.name: sorted((t.input_schema or {}).get("properties", {}).keys()) for t in tools.tools}
            report["search_required"] = next(t.input_schema.get("required", []) for t in tools.tools if t.name == "search")

            first = await client.call_tool("search", {"query": "parse the retry configuration", "k": 3})
            body, found = hits(first)
            report["first_search"] = {"is_error": bool(first.is_error), "paths": [p for p, _ in found],
                                      "schema_version": body["schema_version"],
                                      "has_content": all(h["payload"]["content"] for h in body["results"]),
                                      "fields": sorted(body["results"][0].keys()) if body["results"] else []}

            with open(os.path.join(repo, "backoff.py"), "w") as f:
                f.write("def exponential_backoff(attempt):\n    return 2 ** attempt\n")
            git(repo, "add", "backoff.py")
            git(repo, "commit", "-q", "-m", "add backoff")
            status = json.loads(text_of(await client.call_tool("status", {})))
            report["status_before_sync"] = {"commits_behind": status.get("commits_behind"), "sync_running": status["sync_running"]}

            progress = []

            async def on_progress(value, total, message):
                progress.append([value, total])

            synced = await client.call_tool("sync", {}, progress_callback=on_progress)
            sync_body = json.loads(text_of(synced))
            report["sync"] = {"is_error": bool(synced.is_error), "files_added": sync_body["files_added"], "progress": progress}
            status = json.loads(text_of(await client.call_tool("status", {})))
            report["status_after_sync"] = {"commits_behind": status.get("commits_behind")}

            _, found = hits(await client.call_tool("search", {"query": "exponential backoff attempt", "k": 3}))
            report["after_commit"] = found

            with open(os.path.join(repo, "jitter.py"), "w") as f:
                f.write("def add_random_jitter(delay):\n    return delay * 1.5\n")
            _, found = hits(await client.call_tool("search", {"query": "random jitter delay", "k": 3}))
            report["uncommitted"] = found
            _, found = hits(await client.call_tool("search", {"query": "random jitter delay", "k": 3, "committed_only": True}))
            report["committed_only"] = found
            _, found = hits(await client.call_tool("search", {"query": "random jitter delay", "path": "config*"}))
            report["path_filtered"] = found

            bad = await client.call_tool("search", {"query": "   "})
            report["empty_query"] = {"is_error": bool(bad.is_error), "message": text_of(bad)}
            bad = await client.call_tool("search", {"query": "x", "k": 999999999999})
            report["huge_k"] = {"is_error": bool(bad.is_error), "message": text_of(bad)}
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(session(sys.argv[1], sys.argv[2]))
